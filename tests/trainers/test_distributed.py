"""fit / evaluate / predict under torchrun (2 CPU processes, gloo) equal one process with the same global batch.

The scenarios live in ``dist_scenarios.py`` (a script with no distribution code); one torchrun launch runs
them all, and the same functions run here in one process as the reference. Every launch has a timeout.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstmkit.trainers.distributed import shard_bounds

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "dist_scenarios.py"
SCENARIOS = ["fit", "early_stop", "stateful", "masked", "loader", "stream"]
TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict:
    e = dict(os.environ, OMP_NUM_THREADS="1")
    e["PYTHONPATH"] = os.pathsep.join([str(HERE.parents[1] / "src"), e.get("PYTHONPATH", "")])
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        e.pop(name, None)
    return e


def torchrun(args: list[str], out: Path, scenarios: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", *args, str(SCRIPT), str(out), *scenarios]
    return subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=TIMEOUT_S)


def load(path: Path) -> dict:
    z = np.load(path)
    result = {k: z[k] for k in z.files}
    result["history"] = json.loads(result["history"].tobytes())
    result["printed"] = result["printed"].tobytes().decode().strip()
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{scenario: (one-process result, [rank 0 result, rank 1 result])} and the output folder."""
    one, two = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("two")
    port = free_port()
    done = torchrun(["--nnodes", "1", "--nproc-per-node", "2", "--rdzv-backend", "c10d",
                     "--rdzv-endpoint", f"127.0.0.1:{port}"], two, SCENARIOS)
    assert done.returncode == 0, done.stderr[-3000:]
    reference = subprocess.run([sys.executable, str(SCRIPT), str(one), *SCENARIOS], env=env(),
                               capture_output=True, text=True, timeout=TIMEOUT_S)
    assert reference.returncode == 0, reference.stderr[-3000:]
    return {s: (load(one / f"{s}_rank0.npz"), [load(two / f"{s}_rank{r}.npz") for r in (0, 1)])
            for s in SCENARIOS}, two


def assert_history_close(got: dict, want: dict, rtol: float = 1e-5) -> None:
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=rtol, atol=1e-6, err_msg=key)


def test_two_processes_train_the_same_weights_and_history_as_one(runs):
    one, ranks = runs[0]["fit"]
    for r in ranks:  # every rank ends with the same weights, equal to one process's within float rounding
        np.testing.assert_allclose(r["weights"], one["weights"], rtol=1e-5, atol=1e-6)
        assert_history_close(r["history"], one["history"])
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])
    assert ranks[0]["history"] == ranks[1]["history"]  # callbacks saw the same all-reduced logs


def test_each_rank_trains_on_its_own_shard_of_every_global_batch(runs):
    one, ranks = runs[0]["fit"]
    seen = [r["seen"] for r in ranks]
    for epoch in range(3):
        ids = [set(s[s[:, 0] == epoch, 1].tolist()) for s in seen]
        counts = [int((s[:, 0] == epoch).sum()) for s in seen]
        assert not ids[0] & ids[1]  # disjoint
        assert ids[0] | ids[1] == set(range(1000, 1033))  # together every sample once (33: uneven)
        assert sum(counts) == 33 and all(c in (16, 17) for c in counts)
    # the one-process run saw the same samples in the same (rank 0's) shuffled order
    assert sorted(map(tuple, one["seen"].tolist())) == sorted(map(tuple, np.concatenate(seen).tolist()))


def test_evaluate_and_predict_are_global(runs):
    one, ranks = runs[0]["fit"]
    for r in ranks:
        np.testing.assert_allclose(r["evaluate"], one["evaluate"], rtol=1e-5)
        assert r["predict"].shape == one["predict"].shape == (13, 1)  # 13 rows: blocks of 7 and 6, in order
        np.testing.assert_allclose(r["predict"], one["predict"], rtol=1e-5, atol=1e-6)


def test_only_rank_zero_prints_and_writes_files(runs):
    results, out = runs
    one, ranks = results["fit"]
    assert ranks[0]["printed"].startswith("Epoch 1/3") and "val_loss" in ranks[0]["printed"]
    assert ranks[1]["printed"] == ""
    assert (out / "log_rank0.csv").exists() and not (out / "log_rank1.csv").exists()
    rows = (out / "log_rank0.csv").read_text().strip().splitlines()
    assert rows[0].split(",")[0] == "epoch" and len(rows) == 4


def test_early_stopping_stops_every_rank_at_the_same_epoch(runs):
    one, ranks = runs[0]["early_stop"]
    epochs = len(one["history"]["loss"])
    assert epochs < 20  # it did stop early
    for r in ranks:
        assert len(r["history"]["loss"]) == epochs
        assert_history_close(r["history"], one["history"], rtol=1e-4)
        np.testing.assert_allclose(r["weights"], one["weights"], rtol=1e-3, atol=1e-4)


def test_stateful_layout_keeps_each_slot_on_one_rank(runs):
    one, ranks = runs[0]["stateful"]
    for r in ranks:
        np.testing.assert_allclose(r["weights"], one["weights"], rtol=1e-5, atol=1e-6)
        assert_history_close(r["history"], one["history"])
        # the slot memory gathered back: (4 slots, h and c) equal to one process's
        np.testing.assert_allclose(r["states"], one["states"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(r["predict"], one["predict"], rtol=1e-5, atol=1e-6)


def test_masked_losses_average_over_the_global_batch_unmasked_steps(runs):
    one, ranks = runs[0]["masked"]
    for r in ranks:
        np.testing.assert_allclose(r["weights"], one["weights"], rtol=1e-5, atol=1e-6)
        assert_history_close(r["history"], one["history"])
        np.testing.assert_allclose(r["evaluate"], one["evaluate"], rtol=1e-5)


def test_explicit_data_parallel_splits_every_batch_of_a_dataloader(runs):
    one, ranks = runs[0]["loader"]
    for r in ranks:
        np.testing.assert_allclose(r["weights"], one["weights"], rtol=1e-5, atol=1e-6)
        assert_history_close(r["history"], one["history"])
        np.testing.assert_allclose(r["evaluate"], one["evaluate"], rtol=1e-5)
    ids = [set(r["seen"][r["seen"][:, 0] == 0, 1].tolist()) for r in ranks]
    assert not ids[0] & ids[1] and ids[0] | ids[1] == set(range(1000, 1033))


def test_a_parquet_stream_is_read_once_across_ranks_with_uneven_shards(runs):
    one, ranks = runs[0]["stream"]
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])
    assert ranks[0]["history"] == ranks[1]["history"]
    for epoch in range(2):  # 5 ids x (20 - 5) windows, each read by exactly one rank
        ids = [r["seen"][r["seen"][:, 0] == epoch, 1].tolist() for r in ranks]
        assert not set(ids[0]) & set(ids[1]) and len(ids[0]) + len(ids[1]) == 75
        assert sorted(ids[0] + ids[1]) == sorted(one["seen"][one["seen"][:, 0] == epoch, 1].tolist())
    assert len(ranks[0]["history"]["loss"]) == 2


def test_two_nodes_on_localhost_rendezvous_and_train_the_same(tmp_path):
    """The multi-node path: two torchrun agents ("nodes", one process each) meet at a c10d rendezvous on
    127.0.0.1 and train as one job."""
    port = free_port()
    common = ["--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d",
              "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "lstmkit-test"]
    cmd = [sys.executable, "-m", "torch.distributed.run", *common, str(SCRIPT), str(tmp_path), "fit"]
    nodes = [subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        outputs = [node.communicate(timeout=TIMEOUT_S) for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    assert all(node.returncode == 0 for node in nodes), outputs[0][1][-2000:] + outputs[1][1][-2000:]
    ranks = [load(tmp_path / f"fit_rank{r}.npz") for r in (0, 1)]
    np.testing.assert_array_equal(ranks[0]["weights"], ranks[1]["weights"])
    seen = [set(r["seen"][:, 1].tolist()) for r in ranks]
    assert seen[0] and seen[1] and seen[0] | seen[1] == set(range(1000, 1033))


@pytest.mark.parametrize("size,world", [(0, 2), (1, 2), (7, 2), (8, 3), (33, 4)])
def test_shard_bounds_cover_the_batch_in_order_without_overlap(size, world):
    bounds = [shard_bounds(size, world, r) for r in range(world)]
    assert bounds[0][0] == 0 and bounds[-1][1] == size
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    sizes = [hi - lo for lo, hi in bounds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
