"""The ``skcal`` command: composes the library's functions, holds no logic of its own."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skcal._cli_export import add_export_command
from skcal._cli_paths import calibrate_outputs, simulate_outputs, source_path
from skcal._outputs import check_output_path
from skcal.distributed._cli import add_cluster_option, command_cluster, start_cluster
from skcal.exceptions import SkcalError

if TYPE_CHECKING:
    import pandas as pd
    from tqdm import tqdm

__all__ = ["main"]


def _simulate(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from skcal.datasets import iter_jets
    from skcal.io import write_root

    # the split and every path, checked before the first file is written
    outputs = simulate_outputs(args.output, args.n_jets, args.files, overwrite=args.overwrite)
    per_file, extra = divmod(args.n_jets, len(outputs))
    if args.generator == "pythia":
        _simulate_pythia(args, outputs, per_file, extra)
        return
    start = 0
    with tqdm(
        total=args.n_jets, unit="jet", unit_scale=True, desc="simulate", disable=args.quiet
    ) as bar:
        for i, path in enumerate(outputs):
            n = per_file + (i < extra)
            chunks = iter_jets(
                n,
                start=start,
                chunk_size=args.chunk_size,
                kind=args.kind,
                topology=args.topology,
                spectrum=args.spectrum,
                mu_range=tuple(args.mu_range),
                random_state=args.seed,
            )
            write_root(
                _counted(chunks, bar),
                path,
                tree=args.tree,
                format=args.format,
                overwrite=args.overwrite,
            )
            start += n
    for path in outputs:
        print(path)


def _simulate_pythia(
    args: argparse.Namespace, outputs: list[Path], per_file: int, extra: int
) -> None:
    """``skcal simulate --generator pythia``: one Pythia sample, split over the files."""
    from skcal.datasets import make_pythia_jets
    from skcal.io import write_root

    jets = make_pythia_jets(
        args.n_jets,
        kind=args.kind,
        topology=args.topology,
        mu_range=tuple(args.mu_range),
        shower=args.shower,
        n_jobs=args.jobs,
        random_state=args.seed,
    )
    start = 0
    for i, path in enumerate(outputs):
        n = per_file + (i < extra)
        part = jets.iloc[start : start + n]
        write_root(part, path, tree=args.tree, format=args.format, overwrite=args.overwrite)
        start += n
    for path in outputs:
        print(path)


def _training_data(config: Any) -> tuple[Any, Any, Any, Any]:
    """The configuration's jet table, its inputs X, the response y, and the weights (or None)."""
    from skcal.io import read_jets
    from skcal.preprocessing import flat_prior_weights

    reco, truth = config.response_columns()
    needed = list(dict.fromkeys([*config.features, reco, truth, "pt_true", "weight"]))
    table = read_jets(
        config.data.source,
        tree=config.data.tree,
        preset=config.data.preset,
        step_size=config.data.step_size,
        dask=config.data.dask,
        columns=[c for c in needed if c != "weight" or config.weights == "weight"],
    )
    weights = None
    if config.weights != "none":
        weights = flat_prior_weights(table) if config.weights == "flat_prior" else table["weight"]
    return table, table[config.features], table[reco] / table[truth], weights


def _log_to_mlflow(config: Any, pipeline: Any, table: Any) -> None:
    inside_mlflow_run = "MLFLOW_RUN_ID" in os.environ  # started by `mlflow run` (MLproject)
    if config.output.mlflow is None and not inside_mlflow_run:
        return
    from skcal.config import MlflowConfig
    from skcal.tracking import log_calibrator, use_store

    ml = config.output.mlflow or MlflowConfig()
    if not inside_mlflow_run:  # otherwise the run's own store (MLFLOW_TRACKING_URI)
        use_store(ml.tracking_uri, root=ml.store, experiment=ml.experiment)
    example = table.head(5) if config.data.dask else table.iloc[:5]
    logged = log_calibrator(pipeline, example, name=ml.register, alias=ml.alias)
    print(f"mlflow run: {logged.run_id}; model: {logged.registry_uri or logged.model_uri}")


def _fit(args: argparse.Namespace) -> None:
    from skcal.config import build_pipeline, load_config
    from skcal.tracking import save_calibrator

    config = load_config(args.config)
    model_path = Path(config.output.model) if config.output.model else None
    if model_path is not None:  # fail before fitting
        check_output_path(
            model_path, overwrite=args.overwrite, hint="pass --overwrite to replace it"
        )
    with start_cluster(config.cluster):  # the Dask work of the read and the fit
        table, X, y, weights = _training_data(config)
        pipeline = build_pipeline(config)
        fit_params = {} if weights is None else {f"{pipeline.steps[-1][0]}__sample_weight": weights}
        steps = " -> ".join(name for name, _ in pipeline.steps)
        print(f"fitting {steps} on {config.data.source}", file=sys.stderr)
        pipeline.fit(X, y, **fit_params)
    if model_path is not None:
        print(f"model: {save_calibrator(pipeline, model_path, overwrite=args.overwrite)}")
    _log_to_mlflow(config, pipeline, table)


def _tune(args: argparse.Namespace) -> None:
    from skcal.config import build_pipeline, load_config, search_space
    from skcal.exceptions import ConfigError
    from skcal.tracking import save_calibrator
    from skcal.tune import tune_pipeline

    config = load_config(args.config)
    if config.tune is None:
        raise ConfigError(f"{args.config} has no tune section (tune.param_space, tune.metric, ...)")
    if config.cluster is not None:
        raise ConfigError("skcal tune runs on Ray (tune.address), not on the cluster: section")
    model_path = Path(config.output.model) if config.output.model else None
    if model_path is not None:
        check_output_path(
            model_path, overwrite=args.overwrite, hint="pass --overwrite to replace it"
        )
    table, X, y, weights = _training_data(config)
    sweep = config.tune
    result = tune_pipeline(
        build_pipeline(config),
        search_space(sweep),
        X,
        y,
        sample_weight=weights,
        metric=sweep.metric,
        mode=sweep.mode,
        num_samples=sweep.num_samples,
        scheduler=sweep.scheduler,
        search=sweep.search,
        resources_per_trial=sweep.resources_per_trial,
        storage_path=Path(sweep.storage_path).resolve(),
        name=sweep.name,
        address=sweep.address,
        resume=sweep.resume,
    )
    print(
        f"best {sweep.metric}: {result.best_result.metrics[sweep.metric]:.6g} "
        f"with {result.best_params}"
    )
    print(f"sweep: {result.path}")
    if model_path is not None:
        print(
            f"model: {save_calibrator(result.best_pipeline, model_path, overwrite=args.overwrite)}"
        )
    _log_to_mlflow(config, result.best_pipeline, table)


def _calibrate(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from skcal.evaluation import apply_calibration
    from skcal.io import read_jets, write_root
    from skcal.tracking import load_calibrator

    outputs = calibrate_outputs(  # every output checked before the first is written
        args.inputs,
        args.output_dir,
        args.suffix,
        overwrite=args.overwrite,
        keep=[Path(args.model)] if Path(args.model).is_file() else [],
    )
    model = load_calibrator(args.model)
    with start_cluster(command_cluster(args)):
        for source, out in tqdm(outputs.items(), desc="calibrate", unit="file", disable=args.quiet):
            table = read_jets(source, tree=args.tree, step_size=args.step_size, dask=True)
            write_root(
                (part.compute() for part in apply_calibration(model, table).to_delayed()),
                out,
                tree=args.tree or "jets",
                format=args.format,
                overwrite=args.overwrite,
            )
            print(out)


def _evaluate(args: argparse.Namespace) -> None:
    from skcal.evaluation import report
    from skcal.io import read_jets
    from skcal.tracking import load_calibrator

    models = dict(_named_model(spec) for spec in args.model)
    models = {name: load_calibrator(reference) for name, reference in models.items()}
    with start_cluster(command_cluster(args)):
        table = read_jets(args.data, tree=args.tree, step_size=args.step_size, dask=args.dask)
        result = report(models, table, output_dir=args.output_dir)
    for name, summary in result.metrics["summary"].items():
        print(
            f"{name}: worst closure {summary['worst_closure']:.4f}, median resolution "
            f"{summary['median_resolution']:.4f}, findings {len(summary['flags'])}"
        )
    print(result.html)


def _named_model(spec: str) -> tuple[str, str]:
    """``NAME=REFERENCE`` or a bare reference, named after its file (or itself)."""
    name, sep, reference = spec.partition("=")
    if not sep or ":/" in name:  # no name given: an '=' inside a URI is not one
        return Path(spec).stem if Path(spec).suffix else spec, spec
    return name, reference


def _demo(args: argparse.Namespace) -> None:
    from skcal.demo import run_demo

    result = run_demo(
        args.output_dir,
        n_train=args.n_train,
        n_test=args.n_test,
        epochs=args.epochs,
        seed=args.seed,
    )
    print("\nHeld-out closure and resolution (every (pT_true, |eta_true|) bin of the report):")
    print(result.summary.to_string())
    print(f"\nreport:        {result.report_html}")
    print(f"MLflow store:  {result.store_uri}   (mlflow ui --backend-store-uri {result.store_uri})")
    print(f"registered:    {result.registry_uri}   (skcal.tracking.load_calibrator)")


def _counted(chunks: Iterator[pd.DataFrame], bar: tqdm) -> Iterator[pd.DataFrame]:
    for chunk in chunks:
        bar.update(len(chunk))
        yield chunk


def _step_size(text: str) -> int | str:
    from skcal.io._step import check_step_size

    try:
        return check_step_size(text, "step size")
    except SkcalError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skcal`` command."""
    parser = argparse.ArgumentParser(
        prog="skcal", description="Jet calibration with scikit-learn estimators."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    sim = commands.add_parser(
        "simulate", help="write synthetic jets with a known truth to ROOT files"
    )
    sim.add_argument("n_jets", type=_positive_int, help="number of jets in all")
    sim.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output file; with --files N, N files named STEM_000.root, ...",
    )
    sim.add_argument(
        "--files", type=_positive_int, default=1, help="split the jets over this many files"
    )
    sim.add_argument(
        "--generator",
        choices=["synthetic", "pythia"],
        default="synthetic",
        help="the synthetic generator, or Pythia 8 events with FastJet and a parametric "
        "detector (needs the sim extra; --spectrum and --chunk-size do not apply)",
    )
    sim.add_argument(
        "--shower", choices=["pythia", "vincia"], default="pythia", help="Pythia's shower model"
    )
    sim.add_argument(
        "--jobs", type=_positive_int, default=1, help="worker processes (--generator pythia)"
    )
    sim.add_argument("--kind", choices=["small_r", "large_r"], default="small_r")
    sim.add_argument("--topology", choices=["dijet", "w", "z", "top", "higgs"], default="dijet")
    sim.add_argument("--spectrum", choices=["sliced", "physical"], default="sliced")
    sim.add_argument(
        "--mu-range", type=float, nargs=2, default=(10.0, 70.0), metavar=("LOW", "HIGH")
    )
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--format", choices=["ttree", "rntuple"], default="ttree")
    sim.add_argument("--tree", default="jets", help="name of the tree (default: jets)")
    sim.add_argument(
        "--chunk-size", type=_positive_int, default=1_000_000, help="jets generated at a time"
    )
    sim.add_argument("--overwrite", action="store_true", help="replace existing files")
    sim.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sim.set_defaults(handler=_simulate)

    fit = commands.add_parser("fit", help="fit a calibration pipeline from a YAML configuration")
    fit.add_argument("config", type=Path, help="the configuration file (see skcal.config)")
    fit.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    fit.set_defaults(handler=_fit)

    cal = commands.add_parser("calibrate", help="write calibrated copies of ROOT files of jets")
    cal.add_argument(
        "inputs", type=source_path, nargs="+", help="flat ROOT files of jets, or their URLs"
    )
    cal.add_argument(
        "-m",
        "--model",
        required=True,
        help="a model file (skcal fit) or an MLflow URI such as models:/jes-smallR@champion",
    )
    cal.add_argument(
        "-o", "--output-dir", type=Path, required=True, help="folder of the calibrated files"
    )
    cal.add_argument(
        "--suffix", default="_calib", help="added to each file's name (default: _calib)"
    )
    cal.add_argument(
        "--tree", default=None, help="the tree to read (default: the file's only tree)"
    )
    cal.add_argument("--format", choices=["ttree", "rntuple"], default="ttree")
    cal.add_argument(
        "--step-size",
        type=_step_size,
        default="100 MB",
        help="jets (or memory, '100 MB') per chunk",
    )
    cal.add_argument("--overwrite", action="store_true", help="replace existing output files")
    cal.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_cluster_option(cal)
    cal.set_defaults(handler=_calibrate)

    tune = commands.add_parser(
        "tune", help="sweep a pipeline's parameters with Ray Tune (a tune: section)"
    )
    tune.add_argument(
        "config", type=Path, help="a configuration with a tune section (see skcal.config)"
    )
    tune.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    tune.set_defaults(handler=_tune)

    ev = commands.add_parser(
        "evaluate", help="closure, resolution and robustness report of calibrations"
    )
    ev.add_argument(
        "-m",
        "--model",
        action="append",
        required=True,
        metavar="[NAME=]MODEL",
        help="a model file or MLflow URI, optionally named (repeat to compare models)",
    )
    ev.add_argument(
        "-d", "--data", required=True, help="held-out jets: a ROOT file, glob or folder"
    )
    ev.add_argument("-o", "--output-dir", type=Path, required=True, help="folder of the report")
    ev.add_argument("--tree", default=None)
    ev.add_argument("--step-size", type=_step_size, default="100 MB")
    ev.add_argument(
        "--dask", action="store_true", help="read the jets in chunks (one pass for every figure)"
    )
    add_cluster_option(ev)
    ev.set_defaults(handler=_evaluate)

    demo = commands.add_parser(
        "demo", help="the quick-start job: simulate, fit NI and an MDN, report, log"
    )
    demo.add_argument("-o", "--output-dir", type=Path, default=Path("demo-output"))
    demo.add_argument("--n-train", type=_positive_int, default=400_000)
    demo.add_argument("--n-test", type=_positive_int, default=200_000)
    demo.add_argument("--epochs", type=_positive_int, default=6)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(handler=_demo)
    add_export_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skcal`` command; return its exit status.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skcal.cli import main
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "jets.root"
    >>> main(["simulate", "1000", "-o", str(out), "--quiet"])  # doctest: +ELLIPSIS
    /.../jets.root
    0
    """
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (SkcalError, OSError) as exc:
        print(f"skcal {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
