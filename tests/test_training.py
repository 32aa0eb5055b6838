"""Tests of labutils.training: fit, its clear errors, and evaluation."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from labutils.batches import TensorBatches
from labutils.training import (
    History,
    accuracy,
    evaluating,
    fit,
    mean_loss,
)


def line_data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """y = 3 x - 1 plus noise: a 2-parameter least-squares problem."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, generator=gen) * 2 - 1
    return x, 3 * x - 1 + 0.1 * torch.randn(n, 1, generator=gen)


def least_squares(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    design = torch.cat([x, torch.ones_like(x)], dim=1)
    return torch.linalg.lstsq(design, y).solution.ravel()  # (slope, intercept)


def linear_setup(lr: float = 0.1):
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    return model, torch.optim.SGD(model.parameters(), lr=lr)


class Scores(nn.Module):
    """A 'classifier' returning its input as class scores; records its mode and grad state."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((self.training, torch.is_grad_enabled()))
        return x * self.scale


def one_hot_data(labels: list[int], classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.tensor(labels)
    return nn.functional.one_hot(y, classes).float(), y


# ---------------------------------------------------------------- fit


def test_fit_reaches_the_least_squares_solution():
    x, y = line_data()
    model, optimizer = linear_setup(lr=0.5)
    fit(model, TensorBatches(x, y, batch_size=64), nn.MSELoss(), optimizer, epochs=300)
    learned = torch.stack([model.weight.detach().ravel()[0], model.bias.detach()[0]])
    torch.testing.assert_close(learned, least_squares(x, y), atol=1e-4, rtol=0)


def test_fit_with_minibatches_and_a_dataloader_gets_close():
    x, y = line_data()
    model, optimizer = linear_setup(lr=0.05)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    history = fit(model, loader, nn.MSELoss(), optimizer, epochs=60)
    learned = torch.stack([model.weight.detach().ravel()[0], model.bias.detach()[0]])
    assert torch.allclose(learned, least_squares(x, y), atol=0.05)
    assert history.epoch_losses[-1] < history.epoch_losses[0]


def test_history_records_every_batch_and_size_weighted_epoch_means():
    x, y = line_data(10)
    model, optimizer = linear_setup(lr=0.0)  # nothing changes: losses are easy to predict
    history = fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, epochs=3)
    assert isinstance(history, History)
    assert history.epochs == 3 and history.batches_per_epoch == [3, 3, 3]
    assert len(history.batch_losses) == 9
    with torch.no_grad():
        full = nn.functional.mse_loss(model(x), y).item()
    assert history.epoch_losses == pytest.approx([full] * 3, rel=1e-5)  # 4+4+2 examples
    assert history.learning_rates == [0.0, 0.0, 0.0]
    assert history.seconds > 0
    assert "3 epochs" in repr(history)


def test_fit_steps_a_scheduler_per_epoch_or_per_batch():
    x, y = line_data(8)
    model, optimizer = linear_setup(lr=0.1)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    history = fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, 3, scheduler)
    assert history.learning_rates == pytest.approx([0.1, 0.05, 0.025])

    model, optimizer = linear_setup(lr=0.1)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    history = fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, 2, scheduler,
                  scheduler_step="batch")
    assert history.learning_rates == pytest.approx([0.1, 0.025])


def test_fit_feeds_the_epoch_loss_to_reduce_lr_on_plateau():
    x, y = line_data(8)
    model, optimizer = linear_setup(lr=0.01)
    # mode="max": a falling loss counts as "no improvement", so the rate halves every epoch
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "max", factor=0.5, patience=0)
    history = fit(model, TensorBatches(x, y, batch_size=8), nn.MSELoss(), optimizer, 3, scheduler)
    assert history.learning_rates == pytest.approx([0.01, 0.01, 0.005])
    with pytest.raises(ValueError, match="epoch loss"):
        fit(model, TensorBatches(x, y, batch_size=8), nn.MSELoss(), optimizer, 1, scheduler,
            scheduler_step="batch")


def test_fit_evaluates_metrics_after_each_epoch_in_train_mode_otherwise():
    inputs, labels = one_hot_data([0, 1, 2, 1])
    model = Scores()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    history = fit(model, TensorBatches(inputs, labels, batch_size=2), nn.CrossEntropyLoss(),
                  optimizer, 2, metrics={"acc": lambda m: accuracy(m, [(inputs, labels)])})
    assert history.metrics == {"acc": [1.0, 1.0]}
    training_calls = [seen for seen in model.seen if seen[1]]
    assert training_calls and all(mode for mode, _ in training_calls)
    assert model.training


class DeviceProbe(nn.Linear):
    """A 1->1 linear model that records where it is moved and on which device its inputs are."""

    def __init__(self):
        super().__init__(1, 1)
        self.moves: list[torch.device] = []
        self.input_devices: list[torch.device] = []

    def to(self, *args, **kwargs):
        self.moves.append(torch.device(args[0] if args else kwargs["device"]))
        return super().to(*args, **kwargs)

    def forward(self, x):
        self.input_devices.append(x.device)
        return super().forward(x)


@pytest.mark.parametrize("device", [None, "cpu", torch.device("cpu")])
def test_fit_moves_the_model_only_when_a_device_is_given(device):
    x, y = line_data(8)
    torch.manual_seed(0)
    model = DeviceProbe()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, 2, device=device,
        progress_bar=False)
    assert model.moves == ([] if device is None else [torch.device("cpu")])
    assert model.input_devices == [torch.device("cpu")] * 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_trains_on_the_gpu_from_cpu_data_and_gives_the_cpu_result():
    x, y = line_data(64)
    results = {}
    for device in ("cpu", "cuda"):
        model, optimizer = linear_setup(lr=0.1)
        history = fit(model, TensorBatches(x, y, batch_size=16), nn.MSELoss(), optimizer, 20,
                      device=device, progress_bar=False)
        assert model.weight.device.type == device
        assert mean_loss(model, [(x.to(device), y.to(device))], nn.MSELoss()) < 0.05
        results[device] = history.epoch_losses
    assert results["cuda"] == pytest.approx(results["cpu"], rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("epochs", [0, -1, 2.5, True, "3"])
def test_fit_rejects_bad_epochs(epochs):
    x, y = line_data(8)
    model, optimizer = linear_setup()
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, epochs)


def test_fit_rejects_an_empty_loader():
    model, optimizer = linear_setup()
    empty = DataLoader(TensorDataset(torch.zeros(0, 1), torch.zeros(0, 1)), batch_size=4)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, empty, nn.MSELoss(), optimizer, 1)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, iter([]), nn.MSELoss(), optimizer, 1)  # no len(): found while training


def test_fit_warns_when_the_loss_diverges():
    x, y = line_data(8)
    model, optimizer = linear_setup(lr=1e6)
    with pytest.warns(RuntimeWarning, match="smaller learning rate"):
        fit(model, TensorBatches(x, y, batch_size=8), nn.MSELoss(), optimizer, 30)


def test_fit_rejects_a_scheduler_of_another_optimizer():
    x, y = line_data(8)
    model, optimizer = linear_setup()
    other = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(other, step_size=1)
    with pytest.raises(ValueError, match="bound to a different optimizer"):
        fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, 1, scheduler)
    with pytest.raises(TypeError, match="scheduler must be"):
        fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, 1, "cosine")
    with pytest.raises(ValueError, match="scheduler_step"):
        fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, 1,
            scheduler_step="step")


def test_fit_rejects_an_optimizer_of_another_model():
    x, y = line_data(8)
    model, _ = linear_setup()
    _, optimizer = linear_setup()
    with pytest.raises(ValueError, match="none of the model's parameters"):
        fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), optimizer, 1)
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        fit(model, TensorBatches(x, y, batch_size=4), nn.MSELoss(), "sgd", 1)


def test_model_and_batch_shape_mismatch_names_both_shapes():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    images, labels = torch.zeros(6, 1, 14, 14), torch.zeros(6, dtype=torch.long)
    with pytest.raises(ValueError) as caught:
        fit(model, TensorBatches(images, labels, batch_size=3), nn.CrossEntropyLoss(), optimizer, 1)
    message = str(caught.value)
    assert "(3, 1, 14, 14)" in message and "196 values per example" in message
    assert "784 features per example" in message
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_output_and_target_shape_mismatch_names_both_shapes():
    x, y = line_data(8)
    model, optimizer = linear_setup()
    with pytest.raises(ValueError, match=r"outputs have shape \(4, 1\) and the targets \(4,\)"):
        fit(model, TensorBatches(x, y.ravel(), batch_size=4), nn.MSELoss(), optimizer, 1)

    classifier = nn.Linear(3, 3)
    optimizer = torch.optim.SGD(classifier.parameters(), lr=0.1)
    inputs, labels = torch.zeros(4, 3), torch.zeros(4, 2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"outputs of shape \(2, 3\).*targets of shape \(2, 2\)"):
        fit(classifier, TensorBatches(inputs, labels, batch_size=2), nn.CrossEntropyLoss(),
            optimizer, 1)


def test_fit_rejects_batches_that_are_not_pairs():
    x, y = line_data(8)
    model, optimizer = linear_setup()
    with pytest.raises(ValueError, match="pair \\(inputs, targets\\).*3 items"):
        fit(model, TensorBatches(x, y, y, batch_size=4), nn.MSELoss(), optimizer, 1)


# ---------------------------------------------------------------- evaluation


def test_accuracy_of_a_perfect_and_of_a_constant_classifier():
    inputs, labels = one_hot_data([0, 1, 2, 1, 0, 1])
    loader = TensorBatches(inputs, labels, batch_size=4)
    assert accuracy(Scores(), loader) == 1.0
    constant = nn.Linear(3, 3)
    with torch.no_grad():
        constant.weight.zero_()
        constant.bias.copy_(torch.tensor([0.0, 1.0, 0.0]))  # always class 1
    assert accuracy(constant, loader) == pytest.approx(3 / 6)


@pytest.mark.parametrize("was_training", [True, False])
def test_evaluation_uses_eval_mode_and_no_grad_then_restores_the_mode(was_training):
    inputs, labels = one_hot_data([0, 1, 2])
    model = Scores()
    model.train(was_training)
    accuracy(model, [(inputs, labels)])
    assert model.seen == [(False, False)]
    assert model.training is was_training


def test_evaluating_restores_mixed_submodule_modes():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model[1].eval()
    with evaluating(model):
        assert not any(m.training for m in model.modules())
        assert not torch.is_grad_enabled()
    assert model.training and model[0].training and not model[1].training


def test_accuracy_rejects_an_empty_loader_and_non_class_outputs():
    model = Scores()
    with pytest.raises(ValueError, match="no batches"):
        accuracy(model, TensorBatches(torch.zeros(0, 3), torch.zeros(0), batch_size=2))
    with pytest.raises(ValueError, match="no batches"):
        accuracy(model, iter([]))
    with pytest.raises(ValueError, match=r"class scores of shape \(N, C\)"):
        accuracy(model, [(torch.zeros(4), torch.zeros(4))])


def test_mean_loss_weights_batches_by_size():
    x, y = line_data(10)
    model, _ = linear_setup()
    with torch.no_grad():
        full = nn.functional.mse_loss(model(x), y).item()
    assert mean_loss(model, TensorBatches(x, y, batch_size=4), nn.MSELoss()) == pytest.approx(full)
