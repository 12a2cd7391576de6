"""``skquant configs list`` and ``skquant configs show MODEL [--variant V | --search-space]``."""

from __future__ import annotations

import argparse

from skquant.cli._common import EXIT_OK, UsageError


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "configs",
        parents=parents,
        help="list the model families and show their config variants",
        description="List the model families and their variants, or show one resolved config.",
    )
    sub = parser.add_subparsers(dest="configs_command", metavar="{list,show}", required=True)
    lister = sub.add_parser(
        "list",
        parents=parents,
        help="list every model family with its variants",
        description="List every registered model family with the variants of its YAML file.",
    )
    lister.set_defaults(handler=_list)
    show = sub.add_parser(
        "show",
        parents=parents,
        help="print the resolved config of one model variant as YAML",
        description=(
            "Print the hyper-parameters of MODEL for one variant (YAML defaults updated "
            "with the variant), as load_model_config returns them."
        ),
    )
    show.add_argument("model", metavar="MODEL", help="registry name or path to a YAML file")
    show.add_argument(
        "--variant",
        default=None,
        help="variant name (default: $MODEL_VARIANT, else balanced)",
    )
    show.add_argument(
        "--search-space",
        action="store_true",
        help="print the search space `skquant tune` samples instead of the config",
    )
    show.set_defaults(handler=_show)


def _list(args: argparse.Namespace) -> int:
    from skquant.config import list_models, list_variants

    names = list_models()
    width = max(len(name) for name in names)
    print(f"{'model':<{width}}  variants")
    for name in names:
        try:
            variants = ", ".join(list_variants(name))
        except (ValueError, OSError) as exc:  # a broken YAML file is named, not fatal
            variants = f"<unreadable config: {exc}>"
        print(f"{name:<{width}}  {variants}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    import os

    import yaml

    from skquant.config import VARIANT_ENV, load_model_config, load_search_space

    if args.search_space and args.variant is not None:
        # one search space serves every variant: --variant would be dropped without a word
        raise UsageError(
            "--variant does not apply to --search-space: a model has one search space, "
            "which skquant tune samples over the variant it starts from (skquant tune "
            "--variant). Drop one of the two."
        )
    try:
        if args.search_space:
            space = load_search_space(args.model)
        else:
            config = load_model_config(args.model, variant=args.variant)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.search_space:
        print(f"# {args.model}, search space of skquant tune")
        print(yaml.safe_dump(space, sort_keys=False, default_flow_style=None).rstrip())
        return EXIT_OK
    variant = args.variant or os.environ.get(VARIANT_ENV) or "balanced"
    print(f"# {args.model}, variant {variant}")
    print(yaml.safe_dump(config, sort_keys=True, default_flow_style=False).rstrip())
    return EXIT_OK
