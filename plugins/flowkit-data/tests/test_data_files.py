"""The ``file`` dataset: round trips from .npy, .pt and .csv, labels, reshaping, scaling and errors."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pydantic
import pytest
import torch

from flowkit.errors import FlowkitError
from flowkit_data import DatasetError, FileDataset, split_indices


@pytest.fixture
def table() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 6)), rng.integers(0, 3, size=40)


def write_csv(path: Path, rows: np.ndarray, header: list[str] | None = None) -> Path:
    lines = [",".join(header)] if header else []
    lines += [",".join(repr(float(v)) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_npy_round_trip_without_labels(tmp_path: Path, table: tuple[np.ndarray, np.ndarray]) -> None:
    data, _ = table
    np.save(tmp_path / "x.npy", data)
    d = FileDataset(path=str(tmp_path / "x.npy"))
    assert d.event_shape == (6,) and len(d) == 40 and d.num_classes is None
    assert d.examples.dtype == torch.float64
    assert torch.equal(d.examples, torch.from_numpy(data))
    x, labels = d.sample_labeled(100, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert labels is None
    assert torch.equal(
        x, torch.from_numpy(data)[torch.randint(0, 40, (100,), generator=torch.Generator().manual_seed(0))]
    )


def test_npy_with_labels_file(tmp_path: Path, table: tuple[np.ndarray, np.ndarray]) -> None:
    data, labels = table
    np.save(tmp_path / "x.npy", data.astype(np.float32))
    np.save(tmp_path / "y.npy", labels)
    d = FileDataset(path=str(tmp_path / "x.npy"), labels_path=str(tmp_path / "y.npy"))
    assert d.examples.dtype == torch.float32 and d.num_classes == 3
    x, y = d.sample_labeled(64, generator=torch.Generator().manual_seed(1))
    assert y is not None and y.dtype == torch.long
    rows = torch.cdist(x.double(), torch.from_numpy(data)).argmin(dim=1)
    assert torch.equal(y, torch.from_numpy(labels)[rows])


def test_pt_tensor_and_dict_round_trip(tmp_path: Path, table: tuple[np.ndarray, np.ndarray]) -> None:
    data, labels = table
    images = torch.from_numpy(data).float().reshape(40, 1, 2, 3)
    torch.save(images, tmp_path / "x.pt")
    assert torch.equal(FileDataset(path=str(tmp_path / "x.pt")).examples, images)
    torch.save({"data": images, "labels": torch.from_numpy(labels)}, tmp_path / "xy.pt")
    d = FileDataset(path=str(tmp_path / "xy.pt"), num_classes=5)
    assert d.event_shape == (1, 2, 3) and d.num_classes == 5
    assert d.labels is not None and torch.equal(d.labels, torch.from_numpy(labels))


def test_integer_data_becomes_float32_and_reshapes(tmp_path: Path) -> None:
    pixels = np.arange(5 * 16, dtype=np.uint8).reshape(5, 16)
    np.save(tmp_path / "img.npy", pixels)
    d = FileDataset(path=str(tmp_path / "img.npy"), shape=[1, 4, 4])
    assert d.event_shape == (1, 4, 4) and d.examples.dtype == torch.float32
    assert torch.equal(d.examples[2, 0, 1], torch.tensor([36.0, 37, 38, 39]))


def test_one_dimensional_array_holds_scalar_examples(tmp_path: Path) -> None:
    np.save(tmp_path / "s.npy", np.array([-2.0, 2.0, 2.0]))
    d = FileDataset(path=str(tmp_path / "s.npy"))
    assert d.event_shape == (1,) and len(d) == 3


def test_csv_with_header_and_named_label_column(tmp_path: Path, table: tuple[np.ndarray, np.ndarray]) -> None:
    data, labels = table
    rows = np.concatenate([data[:, :2], labels[:, None], data[:, 2:]], axis=1)
    path = write_csv(tmp_path / "t.csv", rows, ["a", "b", "digit", "c", "d", "e", "f"])
    d = FileDataset(path=str(path), label_column="digit")
    assert d.event_shape == (6,) and d.num_classes == 3
    assert torch.allclose(d.examples, torch.from_numpy(data))
    assert d.labels is not None and torch.equal(d.labels, torch.from_numpy(labels))


def test_csv_without_header_index_label_column_and_shape(tmp_path: Path) -> None:
    rows = np.concatenate([np.arange(12.0).reshape(3, 4), np.array([[1], [0], [1]])], axis=1)
    path = write_csv(tmp_path / "t.csv", rows)
    d = FileDataset(path=str(path), label_column=-1, shape=[2, 2])
    assert d.event_shape == (2, 2) and len(d) == 3
    assert torch.equal(d.examples[1], torch.tensor([[4.0, 5.0], [6.0, 7.0]], dtype=torch.float64))
    assert d.labels is not None and d.labels.tolist() == [1, 0, 1]
    plain = FileDataset(path=str(path))
    assert plain.event_shape == (5,) and plain.num_classes is None


def test_csv_labels_file(tmp_path: Path, table: tuple[np.ndarray, np.ndarray]) -> None:
    data, labels = table
    write_csv(tmp_path / "x.csv", data)
    write_csv(tmp_path / "y.csv", labels[:, None].astype(float), ["label"])
    d = FileDataset(path=str(tmp_path / "x.csv"), labels_path=str(tmp_path / "y.csv"))
    assert d.labels is not None and torch.equal(d.labels, torch.from_numpy(labels))


def test_standardize_uses_training_statistics(tmp_path: Path) -> None:
    data = np.random.default_rng(1).normal(loc=[3.0, -1.0], scale=[2.0, 0.5], size=(200, 2))
    np.save(tmp_path / "x.npy", data)
    params = {"path": str(tmp_path / "x.npy"), "scaling": "standardize", "validation_fraction": 0.2}
    train = FileDataset(**params)
    val = FileDataset(**params, subset="validation")
    assert torch.allclose(train.examples.mean(dim=0), torch.zeros(2, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(train.examples.std(dim=0, correction=0), torch.ones(2, dtype=torch.float64))
    # validation examples go through the very same map (training statistics), so they are not exactly standard
    assert torch.equal(val.offset, train.offset) and torch.equal(val.scale, train.scale)
    assert float(val.examples.mean(dim=0).abs().max()) > 1e-6
    train_rows, _ = split_indices(200, 0.2, 0)
    assert torch.allclose(train.to_file_units(train.examples), torch.from_numpy(data)[train_rows])


def test_minmax_per_feature_and_global(tmp_path: Path) -> None:
    data = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0], [1.0, 10.0]])
    np.save(tmp_path / "x.npy", data)
    per = FileDataset(path=str(tmp_path / "x.npy"), scaling="minmax")
    assert per.examples[:, 0].tolist() == [-1.0, 0.0, 1.0, -0.5]
    assert per.examples[:, 1].tolist() == [-1.0, 1.0, 0.0, -1.0]
    glob = FileDataset(path=str(tmp_path / "x.npy"), scaling="minmax", per_feature=False)
    assert float(glob.examples.min()) == -1.0 and float(glob.examples.max()) == 1.0
    assert glob.examples[0, 0].item() == -1.0 and glob.examples[1, 1].item() == 1.0
    const = np.ones((4, 2))
    np.save(tmp_path / "c.npy", const)
    assert torch.equal(
        FileDataset(path=str(tmp_path / "c.npy"), scaling="standardize").examples,
        torch.zeros(4, 2, dtype=torch.float64),
    )


def test_errors_name_the_file(tmp_path: Path, table: tuple[np.ndarray, np.ndarray]) -> None:
    data, labels = table
    missing = tmp_path / "missing.npy"
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(missing))}: no such file$"):
        FileDataset(path=str(missing))

    nan = data.copy()
    nan[7, 2] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    with pytest.raises(DatasetError, match=r"nan\.npy: example 7 \(0-based\) contains NaN or infinite values"):
        FileDataset(path=str(tmp_path / "nan.npy"))

    np.save(tmp_path / "x.npy", data)
    with pytest.raises(
        DatasetError, match=r"x\.npy: cannot reshape examples of shape \(6,\) \(6 values\) to shape \(4, 2\)"
    ):
        FileDataset(path=str(tmp_path / "x.npy"), shape=[4, 2])

    np.save(tmp_path / "short.npy", labels[:30])
    with pytest.raises(DatasetError, match=r"short\.npy: 30 labels for 40 examples in .*x\.npy"):
        FileDataset(path=str(tmp_path / "x.npy"), labels_path=str(tmp_path / "short.npy"))

    np.save(tmp_path / "neg.npy", labels - 1)
    with pytest.raises(DatasetError, match=r"neg\.npy: labels must be >= 0, found -1"):
        FileDataset(path=str(tmp_path / "x.npy"), labels_path=str(tmp_path / "neg.npy"))

    np.save(tmp_path / "frac.npy", labels + 0.5)
    with pytest.raises(DatasetError, match=r"frac\.npy: labels must be whole numbers"):
        FileDataset(path=str(tmp_path / "x.npy"), labels_path=str(tmp_path / "frac.npy"))

    np.save(tmp_path / "y.npy", labels)
    with pytest.raises(DatasetError, match=r"y\.npy: label 2 is out of range for num_classes 2"):
        FileDataset(path=str(tmp_path / "x.npy"), labels_path=str(tmp_path / "y.npy"), num_classes=2)

    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    with pytest.raises(DatasetError, match=r"empty\.npy: no examples"):
        FileDataset(path=str(tmp_path / "empty.npy"))

    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DatasetError, match=r"obj\.npy: cannot read as a \.npy array without unpickling"):
        FileDataset(path=str(tmp_path / "obj.npy"))

    np.save(tmp_path / "cplx.npy", np.ones((3, 2), dtype=np.complex64))
    with pytest.raises(DatasetError, match=r"cplx\.npy: values must be numbers"):
        FileDataset(path=str(tmp_path / "cplx.npy"))


def test_csv_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n3,oops\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv: line 3, column 2: cannot read 'oops' as a number"):
        FileDataset(path=str(path))
    path.write_text("1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv: line 2 has 3 values, expected 2"):
        FileDataset(path=str(path))
    path.write_text("x,y\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv: the file has a header but no rows"):
        FileDataset(path=str(path))
    path.write_text("1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv: label_column 'y' names a column but the file has no header row"):
        FileDataset(path=str(path), label_column="y")
    with pytest.raises(DatasetError, match=r"bad\.csv: label_column 5 is out of range for 2 columns"):
        FileDataset(path=str(path), label_column=5)
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv: no column named 'c'; columns are \['a', 'b'\]"):
        FileDataset(path=str(path), label_column="c")
    path.write_text("a,b\n1,inf\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv: example 0 \(0-based\) contains NaN or infinite values"):
        FileDataset(path=str(path))


class Payload:
    """A class whose unpickling would run code: a weights-only load must refuse it."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this must never run",))


def test_pt_files_are_never_unpickled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"data": torch.zeros(2, 2), "extra": Payload()}, path)
    with pytest.raises(DatasetError, match=r"evil\.pt: cannot read as a weights-only torch file"):
        FileDataset(path=str(path))
    assert "must never run" not in capsys.readouterr().out
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DatasetError, match=r"evil\.pt: cannot read as a weights-only torch file"):
        FileDataset(path=str(path))
    torch.save({"data": torch.zeros(2, 2), "weights": torch.zeros(2)}, path)
    with pytest.raises(DatasetError, match=r"evil\.pt: unexpected keys \['weights'\]"):
        FileDataset(path=str(path))
    torch.save([torch.zeros(2)], path)
    with pytest.raises(DatasetError, match=r"evil\.pt: expected a tensor or a dict with 'data'"):
        FileDataset(path=str(path))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"path": "data.txt"}, r"path 'data.txt' has unsupported suffix '.txt'; use one of .npy, .pt, .csv"),
        ({"path": "x.npy", "labels_path": "y.json"}, r"labels_path 'y.json' has unsupported suffix '.json'"),
        ({"path": "x.npy", "label_column": 0}, r"label_column needs a .csv file, got 'x.npy'"),
        ({"path": "x.csv", "label_column": 0, "labels_path": "y.npy"}, r"give labels_path or label_column, not both"),
        ({"path": "x.npy", "num_classes": 3}, r"num_classes needs labels"),
        ({"path": "x.npy", "shape": [0, 2]}, r"shape\.0"),
        ({"path": "x.npy", "scaling": "zscore"}, r"scaling"),
        ({"path": "x.npy", "colour": 1}, r"colour"),
    ],
)
def test_params_are_checked_before_reading(params: dict[str, object], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        FileDataset(**params)


def test_dataset_errors_are_flowkit_errors() -> None:
    assert issubclass(DatasetError, FlowkitError) and issubclass(DatasetError, ValueError)


def test_float64_values_beyond_float32_are_refused_for_a_float32_run_not_made_infinite(tmp_path: Path) -> None:
    path = tmp_path / "huge.npy"
    np.save(path, np.array([[1.0, 2.0], [3e39, 0.0]], dtype=np.float64))
    dataset = FileDataset(path=str(path))
    assert torch.isfinite(dataset.sample(4, dtype=torch.float64)).all()
    with pytest.raises(DatasetError, match=r"huge.npy: values up to 3e\+39 do not fit torch.float32"):
        dataset.sample(4, dtype=torch.float32)


def test_a_csv_with_a_byte_order_mark_keeps_its_first_row(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff1,2\n3,4\n".encode())  # as spreadsheet programs save "UTF-8 CSV"
    dataset = FileDataset(path=str(path))
    torch.testing.assert_close(dataset.examples, torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64))
    path.write_bytes("\ufeffx,y\n1,2\n".encode())
    assert len(FileDataset(path=str(path), label_column="x")) == 1  # the header's first name is 'x', not '\ufeffx'
