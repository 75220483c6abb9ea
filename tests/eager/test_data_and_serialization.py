"""torch.utils.data (symgrad/utils/data.py) and torch.save/torch.load
(symgrad/eager/serialization.py), with PyTorch's semantics."""
import io
import pickle

import numpy as np
import pytest

import symgrad as sg
from symgrad import nn
from symgrad.utils.data import (ConcatDataset, DataLoader, Dataset, Subset, TensorDataset,
                                default_collate, random_split)


class Squares(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, index):
        return {"x": float(index), "y": index * index}


def test_tensor_dataset_and_loader_batches():
    data = TensorDataset(sg.arange(10.0).reshape(10, 1), sg.arange(10))
    assert len(data) == 10 and data[3][1].item() == 3
    loader = DataLoader(data, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape for b in batches] == [(4, 1), (4, 1), (2, 1)]
    assert batches[0][1].dtype == sg.int64 and batches[2][1].tolist() == [8, 9]
    assert len(DataLoader(data, batch_size=4, drop_last=True)) == 2
    assert [len(b[0]) for b in DataLoader(data, batch_size=4, drop_last=True)] == [4, 4]
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(sg.ones(3), sg.ones(4))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(data, batch_size=0)


def test_shuffling_follows_manual_seed_and_covers_every_sample():
    data = TensorDataset(sg.arange(12))
    sg.manual_seed(1)
    first = [b[0].tolist() for b in DataLoader(data, batch_size=5, shuffle=True)]
    sg.manual_seed(1)
    again = [b[0].tolist() for b in DataLoader(data, batch_size=5, shuffle=True)]
    assert first == again and sorted(sum(first, [])) == list(range(12))
    assert sum(first, []) != list(range(12))


def test_default_collate_of_dicts_numbers_and_a_custom_collate():
    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert batch["x"].dtype == sg.float64 and batch["y"].tolist() == [0, 1, 4]
    assert default_collate([(np.ones(2), 1), (np.zeros(2), 2)])[0].shape == (2, 2)
    assert default_collate([["a", 1], ["b", 2]])[0] == ["a", "b"]
    summed = DataLoader(Squares(), batch_size=5, collate_fn=lambda items: sum(i["y"] for i in items))
    assert list(summed) == [30, 255]


def test_random_split_subset_and_concat():
    sg.manual_seed(0)
    train, test = random_split(TensorDataset(sg.arange(10)), [8, 2])
    assert len(train) == 8 and isinstance(train, Subset)
    values = sorted([int(train[i][0]) for i in range(8)] + [int(test[i][0]) for i in range(2)])
    assert values == list(range(10))
    parts = random_split(range(10), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(5), [2, 2])
    both = ConcatDataset([TensorDataset(sg.arange(3)), TensorDataset(sg.arange(10, 12))])
    assert len(both) == 5 and both[3][0].item() == 10 and both[-1][0].item() == 11


def test_loader_batches_match_pytorchs(torch=None):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader, TensorDataset as TorchDataset
    x = np.arange(14.0, dtype=np.float32).reshape(7, 2)
    ours = [b[0].numpy() for b in DataLoader(TensorDataset(sg.from_numpy(x)), batch_size=3)]
    theirs = [b[0].numpy() for b in TorchLoader(TorchDataset(torch.from_numpy(x)), batch_size=3)]
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs)) and len(ours) == len(theirs)


def test_train_runs_a_dataloader_compiled():
    sg.manual_seed(0)
    x = sg.randn(32, 3)
    y = x @ sg.tensor([[1.0], [-2.0], [0.5]])
    model = nn.Linear(3, 1)
    optimizer = sg.optim.SGD(model.parameters(), lr=0.1)

    def step(xb, yb):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss

    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    history = sg.train(step, data=loader, epochs=30, progress=False)
    assert len(history) == 30 * 4 and history[-1] < 1e-3
    with pytest.raises(ValueError, match="pass drop_last=True"):
        sg.train(step, data=DataLoader(TensorDataset(x, y), batch_size=5), epochs=1,
                 progress=False)


def test_save_and_load_round_trip_tensors_state_dicts_and_containers(tmp_path):
    sg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = sg.optim.Adam(model.parameters(), lr=0.01)
    model(sg.randn(5, 3)).sum().backward()
    optimizer.step()
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3,
                  "losses": [0.5, 0.25], "ids": sg.tensor([1, 2]), "w": sg.ones(2, requires_grad=True),
                  "shape": sg.ones(2, 3).shape, "dtype": sg.float64}
    path = tmp_path / "checkpoint.pt"
    sg.save(checkpoint, path)
    loaded = sg.load(path)
    assert loaded["epoch"] == 3 and loaded["losses"] == [0.5, 0.25]
    assert loaded["ids"].dtype == sg.int64 and loaded["w"].requires_grad
    assert loaded["shape"] == (2, 3) and loaded["dtype"] is sg.float64
    for key, value in model.state_dict().items():
        assert np.array_equal(loaded["model"][key].numpy(), value.numpy())
    copy = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    copy.load_state_dict(loaded["model"])
    probe = sg.randn(2, 3)
    assert np.array_equal(copy(probe).detach().numpy(), model(probe).detach().numpy())
    fresh = sg.optim.Adam(copy.parameters(), lr=0.01)
    fresh.load_state_dict(loaded["optimizer"])
    assert fresh.state_dict()["param_groups"] == optimizer.state_dict()["param_groups"]


def test_load_of_a_file_object_and_weights_only_refuses_code():
    buffer = io.BytesIO()
    sg.save(sg.tensor([1.5, 2.5], dtype=sg.float64), buffer)
    buffer.seek(0)
    loaded = sg.load(buffer)
    assert loaded.dtype == sg.float64 and loaded.tolist() == [1.5, 2.5]
    evil = io.BytesIO(pickle.dumps(print))
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        sg.load(evil)
    evil.seek(0)
    assert sg.load(evil, weights_only=False) is print


def test_load_state_dict_strict_reports_missing_and_unexpected_keys():
    model = nn.Linear(2, 1)
    state = model.state_dict()
    state["extra"] = sg.ones(1)
    with pytest.raises(RuntimeError, match="extra"):
        model.load_state_dict(state)
    model.load_state_dict(state, strict=False)
