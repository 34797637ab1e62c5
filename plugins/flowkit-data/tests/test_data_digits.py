"""The digits dataset: shape, pixel range, labels and the train/validation split."""

from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits

from flowkit_data import DatasetError, DigitsDataset, split_indices


def test_digits_shape_range_and_labels() -> None:
    d = DigitsDataset(validation_fraction=0.0)
    assert d.event_shape == (1, 8, 8)
    assert len(d) == 1797
    assert d.num_classes == 10
    x = d.examples
    assert x.dtype == torch.float32
    assert float(x.min()) == -1.0 and float(x.max()) == 1.0
    # the 17 raw intensities 0..16 map to value / 8 - 1
    levels = torch.unique(x)
    assert torch.equal(levels, torch.arange(17, dtype=torch.float32) / 8 - 1)
    assert d.labels is not None and d.labels.dtype == torch.long
    assert torch.equal(torch.bincount(d.labels), torch.from_numpy(load_digits().target).bincount())


def test_digits_match_scikit_learn_images() -> None:
    raw = load_digits()
    d = DigitsDataset(validation_fraction=0.0)
    expected = torch.from_numpy(raw.images[5] / 8 - 1).float()
    assert torch.equal(d.examples[5, 0], expected)
    assert d.labels is not None and int(d.labels[5]) == int(raw.target[5])


def test_labelled_draws_pair_images_with_their_digit() -> None:
    d = DigitsDataset(validation_fraction=0.0)
    points, labels = d.sample_labeled(500, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert points.shape == (500, 1, 8, 8) and points.dtype == torch.float64
    assert labels is not None and labels.shape == (500,) and labels.dtype == torch.long
    assert int(labels.min()) >= 0 and int(labels.max()) <= 9
    # every drawn (image, label) pair is one of the dataset's pairs
    flat = d.examples.reshape(len(d), -1).double()
    match = torch.cdist(points.reshape(500, -1), flat).argmin(dim=1)
    assert torch.equal(flat[match], points.reshape(500, -1))
    assert d.labels is not None
    assert torch.equal(d.labels[match], labels)
    # sample() draws the same points as sample_labeled() from the same generator state
    again = d.sample(500, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert torch.equal(again, points)


def test_draws_are_with_replacement_and_cover_the_set() -> None:
    d = DigitsDataset(validation_fraction=0.0)
    x = d.sample(5000, generator=torch.Generator().manual_seed(0))
    distinct = torch.unique(x.reshape(5000, -1), dim=0).shape[0]
    # 5000 draws from 1797 examples: about 1797 (1 - e^{-5000/1797}) ~ 1686 distinct, never 5000
    assert 1600 < distinct < 1760


def test_unlabelled_digits() -> None:
    d = DigitsDataset(labels=False)
    assert d.num_classes is None and d.labels is None
    _, labels = d.sample_labeled(4, generator=torch.Generator().manual_seed(0))
    assert labels is None


def test_default_split_sizes_and_disjointness() -> None:
    train, val = DigitsDataset(), DigitsDataset(subset="validation")
    assert len(val) == 180 and len(train) == 1797 - 180
    tr_idx, val_idx = split_indices(1797, 0.1, 0)
    assert set(tr_idx.tolist()).isdisjoint(val_idx.tolist())
    assert sorted(tr_idx.tolist() + val_idx.tolist()) == list(range(1797))
    full = DigitsDataset(validation_fraction=0.0)
    assert torch.equal(full.examples[tr_idx], train.examples)
    assert torch.equal(full.examples[val_idx], val.examples)
    assert full.labels is not None and val.labels is not None
    assert torch.equal(full.labels[val_idx], val.labels)
    # validation() / train() give the other part of the same split
    assert torch.equal(train.validation().examples, val.examples)
    assert torch.equal(val.train().examples, train.examples)


def test_split_depends_on_seed_and_fraction_only() -> None:
    a = DigitsDataset(subset="validation", split_seed=1)
    b = DigitsDataset(subset="validation", split_seed=1)
    c = DigitsDataset(subset="validation", split_seed=2)
    assert torch.equal(a.examples, b.examples)
    assert not torch.equal(a.examples, c.examples)
    assert len(DigitsDataset(subset="validation", validation_fraction=0.25)) == 449


def test_split_indices_rules() -> None:
    train, val = split_indices(10, 0.25, 0)
    assert (train.numel(), val.numel()) == (7, 3)  # round(2.5) rounds half up
    assert split_indices(10, 0.0, 0)[1].numel() == 0
    with pytest.raises(DatasetError, match="leaves no training example out of 1"):
        split_indices(1, 0.6, 0)


def test_empty_validation_subset_is_an_error() -> None:
    with pytest.raises(DatasetError, match="subset 'validation' is empty"):
        DigitsDataset(subset="validation", validation_fraction=0.0)
