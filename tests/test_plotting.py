"""Tests of labutils.plotting: each figure draws what it is given, with a title and axis labels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from labutils.plotting import (  # noqa: E402
    plot_confusion_matrix,
    plot_curves,
    plot_losses,
    plot_lr_schedules,
    plot_optimizer_paths,
    show_digits,
)
from labutils.training import History  # noqa: E402


def labelled(ax) -> bool:
    return bool(ax.get_title() and ax.get_xlabel() and ax.get_ylabel())


def test_plot_losses_draws_each_curve_and_the_reference():
    history = History(epoch_losses=[4.0, 2.0, 1.0])
    ax = plot_losses({"SGD": [3.0, 2.0, 1.5], "fit": history}, reference=0.9,
                     reference_label="least squares")
    assert labelled(ax) and ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["SGD", "fit", "least squares"]
    assert list(lines[1].get_xdata()) == [1, 2, 3] and list(lines[1].get_ydata()) == [4, 2, 1]
    assert ax.get_legend() is not None


def test_plot_curves_single_curve_on_given_axes():
    _, ax = plt.subplots()
    assert plot_curves(torch.tensor([0.5, 0.9]), ax, title="Accuracy", ylabel="accuracy") is ax
    assert labelled(ax) and ax.get_yscale() == "linear"
    with pytest.raises(ValueError, match="no values"):
        plot_curves({"empty": []}, title="x")
    with pytest.raises(ValueError, match="empty"):
        plot_curves({}, title="x")


def test_plot_lr_schedules():
    ax = plot_lr_schedules({"StepLR": [0.1, 0.1, 0.01], "ExponentialLR": [0.1, 0.05, 0.025]})
    assert labelled(ax)
    assert [line.get_label() for line in ax.get_lines()] == ["StepLR", "ExponentialLR"]
    assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2]


def test_show_digits_titles_and_marks_wrong_predictions():
    images = torch.rand(5, 1, 28, 28)
    fig = show_digits(images, labels=[1, 2, 3, 4, 5], predicted=[1, 2, 0, 4, 5], ncols=3,
                      title="Some digits")
    assert fig._suptitle.get_text() == "Some digits"
    axes = fig.axes
    assert len(axes) == 6  # 2 rows x 3 columns, the last one empty
    assert axes[2].get_title() == "pred 0\ntrue 3" and axes[2].title.get_color() == "red"
    assert axes[0].title.get_color() == "black"
    assert show_digits(images[:, 0], labels=[1, 2, 3, 4, 5]).axes[0].get_title() == "label 1"
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        show_digits(torch.rand(28, 28))
    with pytest.raises(ValueError, match="5 images but 2 labels"):
        show_digits(images, labels=[1, 2])


def test_plot_confusion_matrix():
    counts = torch.tensor([[5, 1], [0, 7]])
    ax = plot_confusion_matrix(counts, class_names=["cat", "dog"])
    assert labelled(ax)
    assert [t.get_text() for t in ax.texts] == ["5", "1", "7"]  # zeros are left blank
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="2 classes but 1 class names"):
        plot_confusion_matrix(counts, class_names=["cat"])


def test_plot_optimizer_paths():
    def bowl(p):
        return p[..., 0] ** 2 + 10 * p[..., 1] ** 2

    paths = {"a": torch.tensor([[1.0, 1.0], [0.5, 0.2], [0.0, 0.0]]), "b": torch.zeros(2, 2)}
    ax = plot_optimizer_paths(bowl, paths, xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), minimum=(0, 0))
    assert labelled(ax)
    labels = [line.get_label() for line in ax.get_lines()]
    assert {"a", "b", "start", "minimum"} <= set(labels)
    assert ax.get_xlim() == (-1.5, 1.5)
    with pytest.raises(ValueError, match=r"shape \(steps \+ 1, 2\)"):
        plot_optimizer_paths(bowl, {"bad": torch.zeros(3)})
    with pytest.raises(ValueError, match="no optimizer paths"):
        plot_optimizer_paths(bowl, {})
