"""A Ray Tune sweep of an MDN calibration pipeline, on a laptop or a GPU cluster.

Sweeps the learning rate and the network of a mixture density network over the
pipeline's own parameter names; each trial reports its validation loss and closure
figure of merit after every epoch, ASHA stops the poor ones, and the best fitted
pipeline comes back (and, with ``--mlflow``, goes to the MLflow store with every trial):

    # on this machine (a local Ray starts and stops):
    python examples/tune_cluster.py --n-jets 50000 --num-samples 8 --storage-path sweeps

    # on a cluster (ray start --head ... on the nodes; storage every node sees):
    python examples/tune_cluster.py --address auto --gpu 0.25 --cpu 4 --num-samples 64 \\
        --storage-path /nfs/sweeps --name jes-mdn --mlflow

    # after an interruption (Ctrl+C, a lost head node), continue where it stopped:
    python examples/tune_cluster.py ... --name jes-mdn --resume

Real data: replace ``load_jets`` by ``skcal.io.read_jets("files/*.root", dask=True)``
(pass validation files too); the trials then read the files, only their paths travel.
"""

from __future__ import annotations

import argparse

from ray import tune
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.neural import MDNCalibrator
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler
from skcal.tune import tune_pipeline

FEATURES = ["e_reco", "pt_reco", "eta", "mu", "npv", "rho", "area"]
TRUTH = ["pt_true", "eta_true"]


def load_jets(n_jets: int, seed: int) -> tuple:
    """Training features, responses, and truth columns for the closure figure of merit."""
    jets = make_jets(n_jets, random_state=seed)
    return jets[FEATURES], jets.e_reco / jets.e_true, jets[TRUTH]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jets", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--num-samples", type=int, default=8)
    parser.add_argument("--cpu", type=float, default=1, help="CPUs (torch threads) per trial")
    parser.add_argument(
        "--gpu", type=float, default=0, help="GPUs per trial; 0.25 puts four trials on a GPU"
    )
    parser.add_argument(
        "--address", default=None, help="Ray cluster address, e.g. auto or ray://head:10001"
    )
    parser.add_argument("--storage-path", default="skcal-tune")
    parser.add_argument("--name", default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--mlflow", action="store_true", help="log to skcal's local MLflow store")
    parser.add_argument("--search", choices=["random", "optuna"], default="random")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y, truth = load_jets(args.n_jets, args.seed)
    X_val, y_val, truth_val = load_jets(max(args.n_jets // 5, 5000), args.seed + 1)
    pipe = make_pipeline(
        LogTransformer(columns=["e_reco", "pt_reco"]),
        EtaAnnotation(),
        SymmetricScaler(clip=True),
        MDNCalibrator(
            n_components=3,
            training_space="log",
            max_epochs=args.epochs,
            batch_size=1024,
            random_state=args.seed,
        ),
    ).set_output(transform="pandas")
    space = {
        "mdncalibrator__lr": tune.loguniform(3e-4, 1e-2),
        "mdncalibrator__module__hidden_sizes": tune.choice([(32, 32), (64, 64), (64, 64, 64)]),
        "mdncalibrator__n_components": tune.choice([2, 3, 4]),
    }
    result = tune_pipeline(
        pipe,
        space,
        X,
        y,
        X_val=X_val,
        y_val=y_val,
        figure_of_merit={
            "truth": truth_val,
            "bins": {"pt_true": [20, 50, 100, 300, 1000, 3000]},
            "closure": "mean",
            "resolution_weight": 1.0,
        },
        metric="valid_fom",
        mode="min",
        num_samples=args.num_samples,
        scheduler="asha",
        search=args.search,
        resources_per_trial={"cpu": args.cpu, "gpu": args.gpu},
        storage_path=args.storage_path,
        name=args.name,
        resume=args.resume,
        address=args.address,
        mlflow=True if args.mlflow else None,
        seed=args.seed,
    )
    frame = result.grid.get_dataframe()
    print(
        f"{len(frame)} trials in {result.path}; {len(result.errors)} failed; epochs run per trial: "
        f"{sorted(frame.training_iteration.astype(int).tolist())}"
    )
    print(
        f"best: valid_fom={result.best_result.metrics['valid_fom']:.4f} with {result.best_params}"
    )
    if result.mlflow_run_id:
        print(f"best model logged to MLflow: runs:/{result.mlflow_run_id}/model")
    r = result.best_pipeline.predict(X_val.head())
    print(
        "calibrated energies of five validation jets:", (X_val.e_reco.head() / r).round(1).tolist()
    )


if __name__ == "__main__":
    main()
