"""In one process: DistributedSampler (symgrad/utils/distributed_sampler.py) against PyTorch's
rules (and torch itself where installed), the distributed API's errors without a process group,
the post-accumulate-grad hooks DistributedDataParallel relies on, and DDP's buckets in a job of
one rank."""
import numpy as np
import pytest

import symgrad as sg
import symgrad.distributed as dist
from symgrad.utils.data import DataLoader, DistributedSampler, TensorDataset


def shards(rows, replicas, **options):
    return [list(DistributedSampler(range(rows), num_replicas=replicas, rank=r, **options))
            for r in range(replicas)]


def test_padding_repeats_the_first_indices():
    assert shards(5, 2, shuffle=False) == [[0, 2, 4], [1, 3, 0]]
    assert shards(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]   # padded more than once


def test_drop_last_cuts_to_a_multiple():
    assert shards(5, 2, shuffle=False, drop_last=True) == [[0, 2], [1, 3]]


def test_shuffled_shards_partition_one_permutation_per_epoch():
    samplers = [DistributedSampler(range(10), num_replicas=2, rank=r, seed=3) for r in (0, 1)]
    first = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(10))
    for sampler in samplers:
        sampler.set_epoch(1)
    second = [list(s) for s in samplers]
    assert sorted(second[0] + second[1]) == list(range(10)) and second != first
    assert [list(s) for s in samplers] == second           # an epoch's order is fixed


@pytest.mark.parametrize("rows, replicas, drop_last", [(5, 2, False), (5, 2, True), (7, 3, True),
                                                       (3, 4, False), (12, 4, False)])
def test_matches_torch(rows, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for rank in range(replicas):
        theirs = TorchSampler(range(rows), num_replicas=replicas, rank=rank, shuffle=False,
                              drop_last=drop_last)
        ours = DistributedSampler(range(rows), num_replicas=replicas, rank=rank, shuffle=False,
                                  drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    del torch


def test_a_rank_left_with_nothing_is_a_clear_error():
    with pytest.raises(ValueError, match="a dataset of 2 samples split over 3 ranks with "
                                         "drop_last=True gives rank 0 no samples"):
        DistributedSampler(range(2), num_replicas=3, rank=0, drop_last=True)
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_a_data_loader_reads_its_shard():
    data = TensorDataset(sg.arange(6.0))
    loader = DataLoader(data, batch_size=2,
                        sampler=DistributedSampler(data, num_replicas=2, rank=1, shuffle=False))
    assert [batch[0].tolist() for batch in loader] == [[1.0, 3.0], [5.0]]


def test_without_a_process_group_the_errors_say_what_to_call():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="give num_replicas= and rank="):
        DistributedSampler(range(4))
    with pytest.raises(RuntimeError, match="init_process_group"):
        sg.nn.parallel.DistributedDataParallel(sg.nn.Linear(2, 1))
    with pytest.raises(RuntimeError, match="distributed=True needs"):
        sg.train(lambda w, x: (w, np.sum(x * w)), np.ones(2), data=(np.ones((2, 2)),),
                 steps=1, progress=False, distributed=True)


def test_without_mpi4py_the_error_names_the_extra(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install 'symgrad\[mpi\]'"):
        dist.init_process_group()
    assert not dist.is_available()


def test_one_process_all_reduce_mean_is_the_identity():
    from symgrad.core.ops.collective import average_across_ranks
    arrays = [np.arange(3.0), np.ones((2, 2), np.float32)]
    averaged = average_across_ranks(arrays, bucket_bytes=8)
    for before, after in zip(arrays, averaged):
        np.testing.assert_array_equal(before, after)
        assert before.dtype == after.dtype


def test_post_accumulate_grad_hooks_see_the_accumulated_gradient():
    w = sg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * w).sum().backward()
    (3 * w).sum().backward()
    handle.remove()
    w.sum().backward()
    assert seen == [[2.0, 4.0], [5.0, 7.0]]


def test_post_accumulate_grad_hooks_match_torch():
    torch = pytest.importorskip("torch")
    seen = {}
    for module in (sg, torch):
        w = module.tensor([1.0, 2.0], requires_grad=True)
        seen[module] = []
        w.register_post_accumulate_grad_hook(lambda p, out=seen[module]: out.append(p.grad.tolist()))
        for _ in range(2):
            (w * w).sum().backward()
    assert seen[sg] == seen[torch]


@pytest.fixture
def one_rank_job():
    pytest.importorskip("mpi4py")
    dist.init_process_group()
    yield
    dist.destroy_process_group()


def test_ddp_buckets_follow_bucket_cap_mb(one_rank_job):
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    net = sg.nn.Sequential(sg.nn.Linear(100, 50), sg.nn.Linear(50, 2))
    one = sg.nn.parallel.DistributedDataParallel(net)
    assert [[name for name, _ in bucket] for bucket in one._buckets] == \
        [["1.bias", "1.weight", "0.bias", "0.weight"]]            # reverse order, one bucket
    small = sg.nn.parallel.DistributedDataParallel(net, bucket_cap_mb=1000 * 4 / 2 ** 20)
    assert [[name for name, _ in bucket] for bucket in small._buckets] == \
        [["1.bias", "1.weight", "0.bias"], ["0.weight"]]
    assert small.module is net
    x = sg.randn(3, 100)
    np.testing.assert_array_equal(small(x).detach().numpy(), net(x).detach().numpy())


def test_ddp_names_a_parameter_that_got_no_gradient(one_rank_job):
    net = sg.nn.Sequential(sg.nn.Linear(2, 2), sg.nn.Linear(2, 1))
    model = sg.nn.parallel.DistributedDataParallel(net, bucket_cap_mb=12 / 2 ** 20)
    net[0](sg.ones(1, 2)).sum().backward()         # the second layer takes no part
    with pytest.raises(RuntimeError, match="gave no gradient to 1.bias, 1.weight"):
        model(sg.ones(1, 2))
