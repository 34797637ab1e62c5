"""Build-time check that the model fits the data: the error names dataset, model and both shapes."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
import torch
from torch import Tensor

from flowkit import Model, build_components, validate_spec
from flowkit.errors import IncompatibleComponentsError
from flowkit.runs.build import check_model_fits_data
from flowkit_data import DigitsDataset, MoonsDataset
from flowkit_nets import MLP, UNet

CPU = torch.device("cpu")


class FirstCoordinate(Model):
    """A model that drops all but the first coordinate (returns the wrong shape)."""

    name: ClassVar[str] = "first_coordinate"

    def forward(self, x: Tensor, t: Tensor, condition: Tensor | None = None) -> Tensor:
        return x[:, :1]


def test_model_that_cannot_take_the_data() -> None:
    model = MLP((1, 8, 8), width=16, depth=1)
    expected = (
        "model 'mlp' (built for shape (1, 8, 8)) cannot take data of shape (2,) from dataset 'moons': RuntimeError"
    )
    with pytest.raises(IncompatibleComponentsError, match=re.escape(expected)):
        check_model_fits_data(model, MoonsDataset(), CPU, torch.float32)


def test_model_that_returns_another_shape() -> None:
    expected = (
        "model 'first_coordinate' (built for shape (2,)) returns shape (1,) for data of shape (2,) from dataset 'moons'"
    )
    with pytest.raises(IncompatibleComponentsError, match=re.escape(expected)):
        check_model_fits_data(FirstCoordinate((2,)), MoonsDataset(), CPU, torch.float32)


def test_fitting_models_pass() -> None:
    check_model_fits_data(UNet((1, 8, 8)), DigitsDataset(), CPU, torch.float32)
    check_model_fits_data(MLP((1, 8, 8), width=16, depth=1).double(), DigitsDataset(), CPU, torch.float64)


def spec(data: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "model": model, "path": {"name": "condot"}, "evaluate": {"metrics": []}}


def test_build_refuses_a_unet_on_points() -> None:
    s = validate_spec(spec({"name": "moons"}, {"name": "unet"}))
    with pytest.raises(IncompatibleComponentsError) as info:
        build_components(s)
    assert str(info.value) == (
        "model 'unet': needs images of shape (C, H, W), got event shape (2,) (data from dataset 'moons')"
    )


def test_build_gives_a_labelled_dataset_a_conditional_unet() -> None:
    c = build_components(validate_spec(spec({"name": "digits"}, {"name": "unet", "params": {"channels": 16}})))
    assert isinstance(c.model, UNet) and c.model.event_shape == (1, 8, 8)
    assert c.model.num_classes == 10 and c.model.label_embedding is not None
    c = build_components(validate_spec(spec({"name": "digits", "params": {"labels": False}}, {"name": "unet"})))
    assert c.model.num_classes is None
