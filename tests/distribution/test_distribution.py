"""lstmkit.distribution: Keras 3's names (list_devices, DataParallel, set_distribution, distribution, initialize)."""

import socket

import pytest
import torch
import torch.distributed as dist

from lstmkit import distribution


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "KERAS_DISTRIBUTION_JOB_ADDRESSES",
                 "KERAS_DISTRIBUTION_NUM_PROCESSES", "KERAS_DISTRIBUTION_PROCESS_ID"):
        monkeypatch.delenv(name, raising=False)
    yield
    distribution.set_distribution(None)


def test_list_devices_in_keras_format():
    assert distribution.list_devices("cpu") == ["cpu:0"]
    assert distribution.list_devices("gpu") == [f"gpu:{i}" for i in range(torch.cuda.device_count())]
    assert distribution.list_devices() == (distribution.list_devices("gpu") if torch.cuda.is_available()
                                           else ["cpu:0"])
    assert distribution.get_device_count("cpu") == 1
    with pytest.raises(ValueError, match="'cpu' or 'gpu'.*'tpu'"):
        distribution.list_devices("tpu")


def test_set_distribution_and_scope():
    assert distribution.distribution() is None
    dp = distribution.DataParallel(devices=["cpu:0"])
    assert dp.devices == ["cpu:0"] and dp.auto_shard_dataset and dp.num_processes == 1
    distribution.set_distribution(dp)
    assert distribution.distribution() is dp
    other = distribution.DataParallel(devices=["cpu"], auto_shard_dataset=False)
    with other.scope():
        assert distribution.distribution() is other
    assert distribution.distribution() is dp
    distribution.set_distribution(None)
    assert distribution.distribution() is None
    with pytest.raises(TypeError, match="a DataParallel or None"):
        distribution.set_distribution("data_parallel")


def test_data_parallel_errors_say_how_to_launch():
    with pytest.raises(ValueError, match=r"one device per process.*torchrun --nproc-per-node 2"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    with pytest.raises(TypeError, match="device_mesh"):
        distribution.DataParallel(device_mesh=object())
    with pytest.raises(ValueError, match="'gpu:0' or 'cpu:0'"):
        distribution.DataParallel(devices=["tpu:0"])
    with pytest.raises(ValueError, match="devices of one type"):
        distribution.DataParallel(devices=["cpu:0", "gpu:0"])
    with pytest.raises(ValueError, match="non-empty list"):
        distribution.DataParallel(devices=[])


def test_initialize_needs_a_cluster_description():
    with pytest.raises(ValueError, match="torchrun"):
        distribution.initialize()
    with pytest.raises(ValueError, match=r"process_id.*\[0, 2\)"):
        distribution.initialize("127.0.0.1:1", num_processes=2, process_id=2)
    with pytest.raises(ValueError, match="'host:port'"):
        distribution.initialize("127.0.0.1", num_processes=1, process_id=0)


def test_initialize_joins_a_group_and_fit_stays_single_process_with_one_member():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert not distribution.is_initialized()
    distribution.initialize(f"127.0.0.1:{port}", num_processes=1, process_id=0, backend="gloo")
    try:
        assert distribution.is_initialized() and dist.get_backend() == "gloo"
        assert distribution.world_size() == 1 and distribution.rank() == 0 and distribution.is_chief()
        assert distribution.list_devices("cpu") == ["cpu:0"]
        distribution.initialize()  # a no-op once in a group
        assert distribution.active("cpu") is None  # one process: no data parallelism to do
    finally:
        dist.destroy_process_group()


def test_backend_follows_the_device():
    assert distribution.backend_for("cpu") == "gloo"
    assert distribution.backend_for("cuda") == ("nccl" if dist.is_nccl_available() else "gloo")
