"""The model commands: ``flag`` (groups at elevated risk), ``report`` (the HTML report),
``train``, ``evaluate`` and ``migrate-model`` (a 0.1.0 joblib file to the safe format).

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and
sets ``func`` to a ``_cmd_<name>(args) -> int`` function; the library is imported inside the
``_cmd_`` functions so ``turnover-risk --help`` stays quick. ``flag`` and ``report`` get the
model and the panel the same way (a saved model, or a logistic model fitted on the spot);
``train`` and ``evaluate`` share the panel and the printed evaluation table.
"""

from __future__ import annotations

from pathlib import Path

from turnover_risk.cli._common import (
    EXIT_OK,
    CLIError,
    _print_table,
    add_output_options,
    load_register,
    write_table,
)
from turnover_risk.cli._print import _print_flag_result, _steps

# --------------------------------------------------------------------------------------------
# flag and report
# --------------------------------------------------------------------------------------------


def _panel_of(reg, model):
    """The panel of ``reg`` with a fitted model's settings (frequency, horizon, outcome,
    scope), data-quality warnings silenced (they belong to 'validate')."""
    import warnings

    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.panel import build_panel

    spec = getattr(model, "spec_", None)
    kw = (
        {
            "freq": spec.freq,
            "horizon": spec.horizon,
            "outcome": spec.outcome,
            "scope": spec.scope,
        }
        if spec is not None
        else {}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return build_panel(reg, **kw)


def _model_and_panel(args, ahead=None):
    """The model (loaded, or a logistic model fitted here) and the panel for flag/report;
    ``ahead``: the report's worker, which may have read the register and built the panel
    (``cli/_report_inputs.py``)."""
    import warnings

    import pandas as pd

    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.models import TurnoverRiskModel, load_model

    model = load_model(args.model) if args.model else None
    path = Path(args.path)
    got = ahead.inputs(model) if ahead is not None and model is not None else None
    if path.is_file() and path.suffix.lower() == ".parquet":
        reg, panel = None, pd.read_parquet(path)
    elif got is not None:
        reg, panel = got
        if panel is None:
            panel = _panel_of(reg, model)
    else:
        reg = load_register(args.path)
        panel = _panel_of(reg, model)
    if model is None:
        print("No --model given: fitting a logistic TurnoverRiskModel on the panel.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            model = TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
    return reg, model, panel


def _add_flag(sub) -> None:
    p = sub.add_parser(
        "flag",
        help="flag groups at elevated turnover risk",
        description="Flag units (or other groups) whose predicted (prospective) or observed "
        "vs. expected (retrospective) turnover stands out, with Benjamini-Hochberg control and "
        "the top drivers of each flagged group. Groups under --min-group-size are suppressed.",
    )
    p.add_argument("path", help="register folder, or a panel .parquet from 'features'")
    p.add_argument("--model", help="model.skops from 'train' (default: fit a logistic model)")
    p.add_argument("--by", action="append", help="group column (repeat for several)")
    p.add_argument("--mode", choices=("prospective", "retrospective"), default="prospective")
    p.add_argument("--period", help="period to assess (YYYY-MM-DD; default: see docs)")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--no-fdr", action="store_true", help="flag on raw p-values")
    p.add_argument(
        "--overdispersion", default="auto", choices=("auto", "multiplicative", "additive", "none")
    )
    p.add_argument("--n-boot", type=int, default=10, help="bootstrap refits (prospective)")
    p.add_argument("--margin", type=float, default=1.25, help="ratio that counts (prospective)")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output file (.csv or .parquet)")
    add_output_options(p)
    p.set_defaults(func=_cmd_flag)


def _cmd_flag(args) -> int:
    from turnover_risk._atomic import check_target
    from turnover_risk.groups import flag_groups

    check_target(args.out, overwrite=args.overwrite, inputs=[args.path, args.model])
    steps = _steps(3, "flag")
    _, model, panel = _model_and_panel(args)
    steps.update(1)
    res = flag_groups(
        model,
        panel,
        by=(args.by[0] if args.by and len(args.by) == 1 else args.by or "unit_id"),
        period=args.period,
        mode=args.mode,
        min_group_size=args.min_group_size,
        alpha=args.alpha,
        fdr=not args.no_fdr,
        overdispersion=args.overdispersion,
        n_boot=args.n_boot,
        margin=args.margin,
        random_state=args.seed,
    )
    steps.update(1)
    out = write_table(res.table, args.out, overwrite=args.overwrite, inputs=[args.path, args.model])
    steps.update(1)
    steps.close()
    _print_flag_result(res, "groups")
    if res.reason:
        print(res.reason)
    print(f"written to {out}")
    return EXIT_OK


def _add_report(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write the self-contained HTML report",
        description="Write one self-contained HTML file (no network; CSS and images inline): "
        "data and validation, turnover and sick leave over time, model validation, flagged "
        "groups with drivers, what-if for the main levers, and what the numbers can and "
        "cannot say. No employee ids; small groups suppressed.",
    )
    p.add_argument("path", help="register folder")
    p.add_argument("--model", help="model.skops from 'train' (default: fit a logistic model)")
    p.add_argument("--by", default="unit_id", help="group column")
    p.add_argument("--lang", choices=("nb", "en"), default="nb")
    p.add_argument("--n-boot", type=int, default=10, help="bootstrap refits for the flags")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--out", default="report.html", help="output HTML file")
    add_output_options(p)
    p.set_defaults(func=_cmd_report)


MANIFEST_ENTRY = "turnover_risk/manifest.json"
"""The manifest inside a model file (``models._safe_format.MANIFEST_ENTRY``; not imported from
there, which would load pandas before the refit worker is started)."""


def _manifest_hint(path: str | None) -> dict:
    """A model file's manifest, read without loading the model (only to decide early what a
    worker process does: ``load_model`` checks the file); empty when there is no file or no
    readable manifest."""
    import json
    import zipfile

    if not path:
        return {}
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(MANIFEST_ENTRY)
            if info.file_size > 1_000_000:  # a manifest is a few kB
                return {}
            manifest = json.loads(zf.read(info))
    except Exception:  # not a readable archive: load_model says what is wrong
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _model_kind_hint(path: str | None) -> str | None:
    """The ``kind`` named by a model file's manifest (see :func:`_manifest_hint`), or None."""
    kind = _manifest_hint(path).get("kind")
    return kind if isinstance(kind, str) else None


def _stored_refits_hint(path: str | None) -> tuple | None:
    """``(n_boot, random_state)`` of the bootstrap refits a model file's manifest says are kept
    in it (``groups/_refit_store.py``), or None."""
    stored = _manifest_hint(path).get("stored_refits")
    if not isinstance(stored, dict):
        return None
    return stored.get("n_boot"), stored.get("random_state")


def _panel_settings_hint(path: str | None) -> dict | None:
    """The panel settings (``freq``, ``horizon``, ``outcome``, ``scope``) named by a model
    file's manifest, when all are plain values; else None. The report's process checks them
    against the loaded model before the worker's panel is used."""
    manifest = _manifest_hint(path)
    keys = ("freq", "horizon", "outcome", "scope")
    settings = {k: manifest.get(k) for k in keys}
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in settings.values()):
        return None
    return settings


def _cmd_report(args) -> int:
    from turnover_risk._atomic import atomic_output, check_target
    from turnover_risk.cli._report_worker import ReportWorker
    from turnover_risk.groups._refit_worker import refit_process

    if Path(args.path).suffix.lower() == ".parquet":
        raise CLIError(
            "report needs a register folder (it shows rates and validation), "
            f"not a panel file: {args.path!r}"
        )
    inputs = [args.path, args.model]
    out = check_target(args.out, overwrite=args.overwrite, inputs=inputs)
    steps = _steps(2, "report")
    # One worker process, started before the heavy imports here, writes the sections that
    # need only the register while this process loads the model and writes the rest
    # (cli/_report_worker.py). A gbm's bootstrap refits are most of its report's time: the
    # same worker then shares them (groups/_refit_worker.py). Without a worker, everything is
    # written here: the same page.
    gbm = args.n_boot > 0 and _model_kind_hint(args.model) == "gbm"
    # A gbm trained with its refits kept ('train --refits') likely needs none here: the worker
    # then writes the audit too, and serves refits only if the kept ones are not these.
    stored = gbm and _stored_refits_hint(args.model) == (args.n_boot, 0)
    ahead = ReportWorker.start(
        args.path,
        lang=args.lang,
        min_group_size=args.min_group_size,
        refits=gbm,
        panel_settings=_panel_settings_hint(args.model),
        audit_first=stored,
    )
    try:
        from turnover_risk.report._write import _write_report

        with refit_process(start=gbm, worker=ahead.worker if ahead else None):
            reg, model, panel = _model_and_panel(args, ahead)
            steps.update(1)
            with atomic_output(out, overwrite=args.overwrite, inputs=inputs) as tmp:
                _write_report(
                    reg,
                    model,
                    tmp,
                    by=args.by,
                    lang=args.lang,
                    panel=panel,
                    evaluation=None,
                    flags=None,
                    min_group_size=args.min_group_size,
                    n_boot=args.n_boot,
                    margin=1.25,
                    random_state=0,
                    title=None,
                    show_progress=None,
                    ahead=ahead,
                )
    finally:
        if ahead is not None:
            ahead.close()
    steps.update(1)
    steps.close()
    print(f"Report written to {out.resolve()}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# train and evaluate
# --------------------------------------------------------------------------------------------

_EVAL_COLUMNS = (
    "fold", "model", "n_test", "n_test_positive", "test_start", "test_end", "roc_auc", "pr_auc",
    "brier", "log_loss", "calibration_intercept", "calibration_slope", "ece", "precision_top10",
    "recall_top10",
)  # fmt: skip


def _panel_for_model(path: str, spec=None):
    """A panel Parquet file from 'features' as is, or the panel of a register folder."""
    import warnings

    import pandas as pd

    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.panel import build_panel

    source = Path(path)
    if source.is_file():
        if source.suffix.lower() != ".parquet":
            raise CLIError(
                f"{path!r} is a file but not a .parquet panel; pass a register folder or the "
                "panel written by 'turnover-risk features --out panel.parquet'"
            )
        return pd.read_parquet(source)
    kw = {}
    if spec is not None:
        kw = {"freq": spec.freq, "horizon": spec.horizon, "outcome": spec.outcome}
        kw["scope"] = spec.scope
    reg = load_register(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return build_panel(reg, **kw)


def _evaluation_table(result):
    import pandas as pd

    table = result.table[[c for c in _EVAL_COLUMNS if c in result.table.columns]].copy()
    for col in ("test_start", "test_end"):
        table[col] = pd.to_datetime(table[col]).dt.strftime("%Y-%m")
    return table.round(3)


def _run_evaluation(model, panel, n_splits: int):
    import warnings

    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.models import evaluate

    steps = _steps(1, "evaluate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        result = evaluate(model, panel, n_splits=n_splits)
    steps.update(1)
    steps.close()
    print(
        f"Out-of-time evaluation ({result.n_splits} folds, gap {result.gap} periods, "
        f"{len(result.predictions)} test rows; base_rate ranks nobody, so its ranking "
        "metrics are empty):"
    )
    _print_table(_evaluation_table(result))
    return result


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="fit, evaluate over time and save a turnover risk model",
        description="Build the panel of a register folder (or read a panel .parquet from "
        "'features'), evaluate the model out of time (rolling origin, one horizon gap), fit it "
        "on every labelled row and save one model.skops file (skops.io: it loads without running "
        "code) with the manifest and evaluation summary inside; signed when TURNOVER_RISK_KEY is "
        "set. No employee ids or training rows are saved.",
    )
    p.add_argument("path", help="register folder or panel .parquet")
    p.add_argument("--kind", choices=("logistic", "gbm"), default="logistic")
    p.add_argument("--out", required=True, help="model file (.skops)")
    p.add_argument("--n-splits", type=int, default=4, help="evaluation folds (default 4)")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument(
        "--refits",
        type=int,
        default=10,
        help="bootstrap refits of a gbm to keep in the model file (default 10, as 'report "
        "--n-boot'; 0: none): a report on the same register uses them instead of refitting",
    )
    add_output_options(p)
    p.set_defaults(func=_cmd_train)


def _cmd_train(args) -> int:
    import warnings

    from turnover_risk._atomic import check_target
    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.models import TurnoverRiskModel
    from turnover_risk.models._persistence import _save_model, model_path

    if Path(args.out).suffix.lower() != ".skops":
        raise CLIError(f"--out {args.out!r}: use a .skops file name, e.g. model.skops")
    if args.refits < 0 or args.refits == 1:
        raise CLIError(f"--refits {args.refits}: use 0 (none) or at least 2")
    check_target(model_path(args.out), overwrite=args.overwrite, inputs=[args.path])
    panel = _panel_for_model(args.path)
    model = TurnoverRiskModel(kind=args.kind, random_state=args.random_state)
    result = _run_evaluation(model, panel, args.n_splits)
    steps = _steps(2, "train")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        model.fit(panel)
        kept = 0
        if args.kind == "gbm" and args.refits:
            from turnover_risk.groups._refit_store import store_refits

            # the report's prospective flags (random_state 0) then skip their refits
            kept = store_refits(model, panel, n_boot=args.refits, random_state=0)
    steps.update(1)
    out = _save_model(model, args.out, result, overwrite=args.overwrite, inputs=(args.path,))
    steps.update(1)
    steps.close()
    print(
        f"Fitted {args.kind} on {model.n_train_rows_} rows ({model.n_positive_} leavers); "
        f"saved {out}"
        + (
            f" with {kept} bootstrap refits for the report's flags (--refits 0: none)"
            if kept
            else ""
        )
    )
    return EXIT_OK


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="print the out-of-time evaluation table of a model",
        description="Evaluate a model kind (or the settings of a saved model) on a register "
        "folder or panel .parquet: rolling-origin folds by period with a gap of one horizon, "
        "persons kept apart; per fold and pooled ROC-AUC, PR-AUC, Brier, log loss, calibration "
        "and top-10 % precision/recall next to the base-rate and unit-exit-share baselines.",
    )
    p.add_argument("path", help="register folder or panel .parquet")
    p.add_argument("--kind", choices=("logistic", "gbm"), default="logistic")
    p.add_argument("--model", help="saved model.skops: evaluate its settings (refitted per fold)")
    p.add_argument("--n-splits", type=int, default=4, help="evaluation folds (default 4)")
    p.add_argument("--out", help="also write the full table (.csv or .parquet)")
    add_output_options(p)
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args) -> int:
    from turnover_risk._atomic import check_target
    from turnover_risk.models import TurnoverRiskModel, load_model

    inputs = [args.path, args.model]
    if args.out:
        check_target(args.out, overwrite=args.overwrite, inputs=inputs)
    if args.model:
        saved = load_model(args.model)
        panel = _panel_for_model(args.path, getattr(saved, "spec_", None))
        model = TurnoverRiskModel(**saved.get_params())
    else:
        panel = _panel_for_model(args.path)
        model = TurnoverRiskModel(kind=args.kind, random_state=0)
    result = _run_evaluation(model, panel, args.n_splits)
    if args.out:
        out = write_table(result.table, args.out, overwrite=args.overwrite, inputs=inputs)
        print(f"Full table written to {out}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# migrate-model
# --------------------------------------------------------------------------------------------


def _add_migrate_model(sub) -> None:
    p = sub.add_parser(
        "migrate-model",
        help="rewrite a 0.1.0 joblib model file as a .skops file (needs --trust)",
        description="Load a model file saved by turnover_risk 0.1.0 (a joblib pickle) and save "
        "it as a .skops file, which loads without running code. The pickle is read with an "
        "allow-list of the types a 0.1.0 model is made of, so a crafted file is refused; still, "
        "pass --trust only for a file you made yourself. The manifest's SHA-256 beside it "
        "(model.json), when there, must match.",
    )
    p.add_argument("--trust", metavar="FILE", required=True, help="the 0.1.0 .joblib file")
    p.add_argument("--out", required=True, help="the new model file (.skops)")
    add_output_options(p)
    p.set_defaults(func=_cmd_migrate_model)


def _cmd_migrate_model(args) -> int:
    import warnings

    from turnover_risk._atomic import check_target
    from turnover_risk.models import ModelVersionWarning, load_model
    from turnover_risk.models._persistence import _save_model, model_path

    if Path(args.out).suffix.lower() != ".skops":
        raise CLIError(f"--out {args.out!r}: use a .skops file name, e.g. model.skops")
    out = check_target(model_path(args.out), overwrite=args.overwrite, inputs=[args.trust])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelVersionWarning)  # it is being rewritten now
        model = load_model(args.trust, trusted=True)
    _save_model(model, out, overwrite=args.overwrite, inputs=(args.trust,))
    print(f"{args.trust} ({model.kind}) rewritten as {out}; it loads without running code.")
    return EXIT_OK
