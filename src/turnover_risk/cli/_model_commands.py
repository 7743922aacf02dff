"""The model commands: ``flag`` (groups at elevated risk), ``report`` (the HTML report),
``score`` (a whole population in constant memory), ``train`` and ``evaluate``.

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its arguments and
sets ``func`` to a ``_cmd_<name>(args) -> int`` function; the library is imported inside the
``_cmd_`` functions so ``turnover-risk --help`` stays quick. ``flag`` and ``report`` get the
model and the panel the same way (a saved model, or a logistic model fitted on the spot);
``train`` and ``evaluate`` share the panel and the printed evaluation table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from turnover_risk.cli._common import (
    EXIT_OK,
    CLIError,
    _print_table,
    _problem_report_path,
    load_register,
    write_table,
)

# --------------------------------------------------------------------------------------------
# flag and report
# --------------------------------------------------------------------------------------------


def _model_and_panel(args):
    """The model (loaded, or a logistic model fitted here) and the panel for flag/report."""
    import warnings

    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.models import TurnoverRiskModel, load_model
    from turnover_risk.panel import build_panel

    model = load_model(args.model) if args.model else None
    path = Path(args.path)
    if path.is_file() and path.suffix.lower() == ".parquet":
        reg, panel = None, pd.read_parquet(path)
    else:
        reg = load_register(args.path)
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
            panel = build_panel(reg, **kw)
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
    p.add_argument("--model", help="model.joblib from 'train' (default: fit a logistic model)")
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
    p.set_defaults(func=_cmd_flag)


def _cmd_flag(args) -> int:
    from turnover_risk.groups import flag_groups

    _, model, panel = _model_and_panel(args)
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
    out = write_table(res.table, args.out)
    counts = res.table["flag"].value_counts().to_dict()
    print(f"{len(res.table)} groups ({res.mode}, period {res.period.date()}): {counts}")
    if res.overdispersion:
        od = res.overdispersion
        print(
            f"over-dispersion: {od['applied']} (phi={od['phi']:.2f}, tau2={od['tau2']:.3f}, "
            f"p={od['p_value']:.3f})"
        )
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
    p.add_argument("--model", help="model.joblib from 'train' (default: fit a logistic model)")
    p.add_argument("--by", default="unit_id", help="group column")
    p.add_argument("--lang", choices=("nb", "en"), default="nb")
    p.add_argument("--n-boot", type=int, default=10, help="bootstrap refits for the flags")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--out", default="report.html", help="output HTML file")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args) -> int:
    from turnover_risk.report import write_report

    if Path(args.path).suffix.lower() == ".parquet":
        raise CLIError(
            "report needs a register folder (it shows rates and validation), "
            f"not a panel file: {args.path!r}"
        )
    reg, model, panel = _model_and_panel(args)
    out = write_report(
        reg,
        model,
        args.out,
        by=args.by,
        lang=args.lang,
        panel=panel,
        min_group_size=args.min_group_size,
        n_boot=args.n_boot,
    )
    print(f"Report written to {out.resolve()}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# score
# --------------------------------------------------------------------------------------------


def _add_score(sub) -> None:
    p = sub.add_parser(
        "score",
        help="score a whole population in constant memory (group level by default)",
        description="Stream a panel Parquet file or folder (or build the panel of a register "
        "folder partition by partition), score it with a saved model and write expected "
        "leavers per group and period (small groups suppressed), or one risk per person and "
        "period with --row-level. Output is written under a temporary name and renamed when "
        "complete; an existing output is kept unless --overwrite.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="[MODEL] SOURCE",
        help="panel .parquet file or folder, or a register folder; the model file comes "
        "first unless it is given with --model",
    )
    p.add_argument("--model", help="model.joblib from 'train' (as in 'flag' and 'report')")
    p.add_argument("--out", required=True, help="output file (.parquet; .csv for groups)")
    p.add_argument("--by", action="append", help="group column (repeat; default unit_id)")
    p.add_argument("--row-level", action="store_true", help="write one risk per row")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--batch-rows", type=int, default=262_144, help="rows per record batch")
    p.add_argument("--min-group-size", type=int, default=5)
    p.add_argument("--engine", choices=("pandas", "dask"), default="pandas")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument(
        "--connect-timeout", type=float, default=10.0, help="seconds to wait for --scheduler"
    )
    # -- input checks and drift (issues 17, 20) ---------------------------------------------
    p.add_argument(
        "--fail-on-drift",
        action="store_true",
        help="exit with code 3 when an input feature drifted from the training data (the "
        "output and OUT.drift.csv are still written); for pipelines",
    )
    p.set_defaults(func=_cmd_score)


def _cmd_score(args) -> int:
    from turnover_risk.models import load_model
    from turnover_risk.scoring import score_dataset

    if args.scheduler and args.engine != "dask":
        raise CLIError("--scheduler needs --engine dask")
    expected = 1 if args.model else 2
    if len(args.paths) != expected:
        raise CLIError(
            f"score takes {'SOURCE' if args.model else 'MODEL SOURCE'} "
            f"{'with --model' if args.model else '(or --model MODEL SOURCE)'}; got "
            f"{len(args.paths)} path(s): {' '.join(args.paths)}"
        )
    model_path = args.model or args.paths[0]
    source = args.paths[-1]
    model = load_model(model_path)
    extra = {"scheduler": args.scheduler, "connect_timeout": args.connect_timeout}
    try:
        res = score_dataset(
            model,
            source,
            args.out,
            batch_rows=args.batch_rows,
            row_level=args.row_level,
            overwrite=args.overwrite,
            engine=args.engine,
            by=args.by or "unit_id",
            min_group_size=args.min_group_size,
            **(extra if args.engine == "dask" else {}),
        )
    except (FileExistsError, ConnectionError) as err:
        raise CLIError(str(err)) from err
    print(
        f"{res.rows_scored:,} of {res.rows_read:,} rows scored in {res.seconds:.1f} s "
        f"({res.rows_per_second:,.0f} rows/s, engine {res.engine}); written to {res.path}"
    )
    if res.rows_rejected:
        path = _problem_report_path("score-rejected")
        res.rejected.to_csv(path, index=False)
        first = res.rejected.iloc[0]
        print(
            f"{res.rows_rejected:,} rows rejected (first: {first['problem']} in "
            f"{first['file']} row {first['row']}). Rejected rows: {path}",
            file=sys.stderr,
        )
    # -- input checks and drift (issues 17, 20): OUT.drift.csv, problem rows, exit 3 -------
    return _score_checks(res, args)


EXIT_DRIFT = 3
"""``score --fail-on-drift``: the output was written, but inputs drifted from the training data."""


def _score_checks(res, args) -> int:
    from turnover_risk.governance._checks import write_drift_csv

    if len(res.input_problems):
        path = _problem_report_path("score-input-problems")
        res.input_problems.to_csv(path, index=False)
        print(f"Rows scored with values the model never saw: {path}", file=sys.stderr)
    if res.drift is None:
        return EXIT_OK
    path = write_drift_csv(res.drift, res.path)
    print(f"Input drift: {res.drift.summary()}. Table: {path}", file=sys.stderr)
    return EXIT_DRIFT if args.fail_on_drift and res.drift.any_drift else EXIT_OK


# --------------------------------------------------------------------------------------------
# train and evaluate
# --------------------------------------------------------------------------------------------

_EVAL_COLUMNS = (
    "fold", "model", "n_test", "n_test_positive", "test_start", "test_end", "roc_auc", "pr_auc",
    "brier", "log_loss", "calibration_intercept", "calibration_slope", "ece", "precision_top10",
    "recall_top10",
)  # fmt: skip


def _panel_for_model(path: str, spec=None) -> pd.DataFrame:
    """A panel Parquet file from 'features' as is, or the panel of a register folder."""
    import warnings

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


def _evaluation_table(result) -> pd.DataFrame:
    table = result.table[[c for c in _EVAL_COLUMNS if c in result.table.columns]].copy()
    for col in ("test_start", "test_end"):
        table[col] = pd.to_datetime(table[col]).dt.strftime("%Y-%m")
    return table.round(3)


def _run_evaluation(model, panel, n_splits: int):
    import warnings

    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.models import evaluate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        result = evaluate(model, panel, n_splits=n_splits)
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
        "on every labelled row and save model.joblib with a model.json manifest holding the "
        "evaluation summary. No employee ids or training rows are saved.",
    )
    p.add_argument("path", help="register folder or panel .parquet")
    p.add_argument("--kind", choices=("logistic", "gbm"), default="logistic")
    p.add_argument("--out", required=True, help="model file (.joblib); manifest beside it")
    p.add_argument("--n-splits", type=int, default=4, help="evaluation folds (default 4)")
    p.add_argument("--random-state", type=int, default=0)
    p.set_defaults(func=_cmd_train)


def _cmd_train(args) -> int:
    import warnings

    from turnover_risk._warnings import DataQualityWarning
    from turnover_risk.models import TurnoverRiskModel

    if Path(args.out).suffix.lower() != ".joblib":
        raise CLIError(f"--out {args.out!r}: use a .joblib file name (the manifest gets .json)")
    panel = _panel_for_model(args.path)
    model = TurnoverRiskModel(kind=args.kind, random_state=args.random_state)
    result = _run_evaluation(model, panel, args.n_splits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        model.fit(panel)
    out = model.save(args.out, evaluation=result)
    print(
        f"Fitted {args.kind} on {model.n_train_rows_} rows ({model.n_positive_} leavers); "
        f"saved {out} and {out.with_suffix('.json').name}"
    )
    return EXIT_OK


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="print the out-of-time evaluation table of a model",
        description="Evaluate a model kind (or the settings of a saved model) on a register "
        "folder or panel .parquet: rolling-origin folds by period with a gap of one horizon, "
        "persons kept apart; per fold and pooled ROC-AUC, PR-AUC, Brier, log loss, calibration "
        "and top-10 %% precision/recall next to the base-rate and unit-exit-share baselines.",
    )
    p.add_argument("path", help="register folder or panel .parquet")
    p.add_argument("--kind", choices=("logistic", "gbm"), default="logistic")
    p.add_argument("--model", help="saved model.joblib: evaluate its settings (refitted per fold)")
    p.add_argument("--n-splits", type=int, default=4, help="evaluation folds (default 4)")
    p.add_argument("--out", help="also write the full table (.csv or .parquet)")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args) -> int:
    from turnover_risk.models import TurnoverRiskModel, load_model

    if args.model:
        saved = load_model(args.model)
        panel = _panel_for_model(args.path, getattr(saved, "spec_", None))
        model = TurnoverRiskModel(**saved.get_params())
    else:
        panel = _panel_for_model(args.path)
        model = TurnoverRiskModel(kind=args.kind, random_state=0)
    result = _run_evaluation(model, panel, args.n_splits)
    if args.out:
        print(f"Full table written to {write_table(result.table, args.out)}")
    return EXIT_OK
