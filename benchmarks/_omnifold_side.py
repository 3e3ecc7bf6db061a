"""Run the public `omnifold` package (Keras) on events saved by bench_unfolding.py.

    <python with omnifold> benchmarks/_omnifold_side.py EVENTS.npz WEIGHTS.npz [--iterations N]

Runs in its own environment (the package needs TensorFlow, which skcal does not depend
on): reads ``sim_reco``, ``sim_truth``, ``data_reco`` from EVENTS.npz, unfolds with the
package's ``MultiFold`` and its ``MLP`` (its defaults: layers 64-128-64, batch 128,
early stopping after 10 epochs), and writes the final particle-level weights and the
wall time to WEIGHTS.npz. Uses only numpy and the package.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events")
    parser.add_argument("out")
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.keras.utils.set_random_seed(args.seed)
    from omnifold import DataLoader, MultiFold
    from omnifold.net import MLP, weighted_binary_crossentropy

    # omnifold 0.1.36 clones compiled models, and Keras 3.15 then looks its custom loss
    # up by name: without this registration the first step fails ("Could not locate
    # function 'weighted_binary_crossentropy'").
    custom = tf.keras.utils.get_custom_objects()
    custom["weighted_binary_crossentropy"] = weighted_binary_crossentropy

    events = np.load(args.events)
    sim_reco, sim_truth, data_reco = (events[k] for k in ("sim_reco", "sim_truth", "data_reco"))
    data = DataLoader(reco=data_reco, normalize=True)
    mc = DataLoader(reco=sim_reco, gen=sim_truth, normalize=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        unfold = MultiFold(
            "toy",
            MLP(sim_reco.shape[1]),
            MLP(sim_truth.shape[1]),
            data,
            mc,
            weights_folder=os.path.join(tmp, "weights"),
            log_folder=tmp,
            niter=args.iterations,
            epochs=args.epochs,
            verbose=False,
        )
        unfold.Unfold()
        weights = unfold.reweight(sim_truth, unfold.model2, batch_size=10000)
    np.savez(
        args.out,
        weights=weights * mc.weight,
        seconds=time.perf_counter() - start,
        versions=np.asarray([tf.__version__, sys.version.split()[0]]),
    )


if __name__ == "__main__":
    main()
