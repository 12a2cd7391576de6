"""The ``skquant`` argument parser and entry point."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from skquant.cli._common import (
    EXIT_CODES_HELP,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    UsageError,
    setup_logging,
)

# What a shell reports for a command killed by SIGPIPE (128 + 13), as for ``git log | head``.
EXIT_BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (exit code 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _verbosity_parent(top: bool) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    default = 0 if top else argparse.SUPPRESS
    group = parent.add_mutually_exclusive_group()
    group.add_argument(
        "-v", "--verbose", action="count", default=default, help="more output (repeatable)"
    )
    group.add_argument(
        "-q", "--quiet", action="count", default=default, help="less output (warnings only)"
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The full ``skquant`` parser with every sub-command."""
    from skquant import __version__
    from skquant.cli import _configs

    parser = _Parser(
        prog="skquant",
        description=(
            "skquant: train scikit-learn quant models on folders of labeled per-symbol data, "
            "run walk-forward evaluations, tune hyper-parameters and inspect model configs."
        ),
        epilog=EXIT_CODES_HELP,
        parents=[_verbosity_parent(top=True)],
    )
    parser.add_argument("--version", action="version", version=f"skquant {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parents = [_verbosity_parent(top=False)]
    _configs.add_parser(subparsers, parents)
    for name in ("_train_all", "_walkforward", "_tune", "_benchmark", "_build_features"):
        module = _optional_command(name)
        if module is not None:
            module.add_parser(subparsers, parents)
    return parser


def _optional_command(name: str):
    import importlib

    try:
        return importlib.import_module(f"skquant.cli.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"skquant.cli.{name}":
            return None
        raise


def main(argv: list[str] | None = None) -> int:
    """Run the ``skquant`` command line and return its exit code.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    code : int
        0 when everything finished, 1 when some symbols failed, 2 for bad usage or
        input (also a ``ValueError`` found late, e.g. by the walk-forward engine), 3 for
        an unexpected error (one line; ``-v`` prints the traceback), 141 when the
        reader of the output went away (``skquant configs list | head -n 1``): the
        command stops quietly, as ``git`` and ``ls`` do.
    """
    try:
        try:
            return _main(argv)
        finally:  # also after --help's SystemExit: a closed pipe shows here at the latest
            sys.stdout.flush()
    except BrokenPipeError:
        _discard_output()
        return EXIT_BROKEN_PIPE


def _discard_output() -> None:
    """Point stdout (and stderr when it is the same pipe) at devnull.

    Python's recipe for a closed pipe: the interpreter flushes ``sys.stdout`` again at
    exit, which would raise ``BrokenPipeError`` a second time.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        streams = [sys.stdout]
        if _same_file(sys.stdout, sys.stderr):
            streams.append(sys.stderr)
        for stream in streams:
            try:
                os.dup2(devnull, stream.fileno())
            except (OSError, ValueError, AttributeError):  # no real descriptor (captured)
                pass
    finally:
        os.close(devnull)


def _reader_gone() -> bool:
    """Whether stdout or stderr is a pipe whose reading end is closed."""
    try:
        import select

        poller = select.poll()
    except (ImportError, AttributeError):  # no poll (Windows): trust the exception
        return True
    for stream in (sys.stdout, sys.stderr):
        try:
            poller.register(stream.fileno(), select.POLLOUT)
        except (OSError, ValueError, AttributeError):  # no real descriptor (captured)
            continue
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


def _same_file(a, b) -> bool:
    try:
        return os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))
    except (OSError, ValueError, AttributeError):
        return False


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verbosity = int(args.verbose or 0) - int(args.quiet or 0)
    setup_logging(verbosity)
    prog = f"skquant {args.command}" if getattr(args, "command", None) else "skquant"
    try:
        return int(args.handler(args))
    except (UsageError, ValueError) as exc:  # bad input, found early or late: one line
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as exc:
        if _reader_gone():  # the output's reader went away: not an error (see main)
            raise
        return _unexpected(exc, prog, verbosity)  # some other pipe (a worker's) broke
    except Exception as exc:  # a bug or a broken environment, not the user's input
        return _unexpected(exc, prog, verbosity)


def _unexpected(exc: BaseException, prog: str, verbosity: int) -> int:
    if verbosity > 0:
        traceback.print_exc()
        hint = ""
    else:
        hint = " (rerun with -v for the traceback)"
    message = _one_line(exc)
    print(
        f"{prog}: unexpected error: {type(exc).__name__}{': ' + message if message else ''}{hint}",
        file=sys.stderr,
    )
    return EXIT_UNEXPECTED


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
