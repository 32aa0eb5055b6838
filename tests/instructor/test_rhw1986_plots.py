"""Tests of labutils.instructor.rhw1986.plots: every picture draws, has a title and labelled
axes (draw_network and hinton_plot are labutils.network_plots', re-exported here)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from labutils.instructor.rhw1986 import (  # noqa: E402
    PAPER_WEIGHTS,
    initial_weights,
    paper_weights,
    train_many,
)
from labutils.instructor.rhw1986.plots import (  # noqa: E402
    draw_network,
    hinton_plot,
    plot_error_curves,
    plot_grid,
    plot_survival,
    plot_sweeps_histogram,
    plot_workarounds,
)


@pytest.fixture(scope="module")
def study():
    return train_many(40, max_sweeps=2000, seed=3)


def test_draw_network_writes_weights_and_biases():
    ax = draw_network(PAPER_WEIGHTS, title="Figure 1")
    texts = [t.get_text() for t in ax.texts]
    assert "14.2" in texts and "-14.2" in texts and "6.4" in texts and "-1.1" in texts
    assert ax.get_title().startswith("Figure 1")
    assert draw_network(initial_weights(0, 0, hidden=3)).get_title()


def squares(ax) -> dict[tuple[int, int], tuple[float, str]]:
    """The Hinton diagram's cells: (row, column) -> (side of the square, its colour)."""
    found = {}
    for patch in ax.patches[1:]:  # the first is the grey background
        x, y = patch.get_xy()
        cell = (round(y + patch.get_height() / 2), round(x + patch.get_width() / 2))
        found[cell] = (patch.get_width(), matplotlib.colors.to_hex(patch.get_facecolor()))
    return found


def side(weight: float):
    """The side of Figure 1's square for `weight` (area ~ |weight|, the largest 14.2: 0.92)."""
    return pytest.approx(0.92 * (abs(weight) / 14.2) ** 0.5)


def test_hinton_plot_draws_each_weight_as_a_square_of_its_size_and_sign():
    ax = hinton_plot(PAPER_WEIGHTS, annotate=True)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["hidden 1", "hidden 2", "output"]
    cells = squares(ax)
    assert len(cells) == 3 * 8
    white, black = "#ffffff", "#000000"
    assert cells[0, 0] == (side(14.2), white) and cells[0, 5] == (side(14.2), black)
    assert cells[1, 0] == (side(14.2), black) and cells[1, 1] == (side(7.2), black)
    assert cells[0, 2] == (side(3.6), white) and cells[1, 3] == (side(3.6), white)
    assert cells[0, 6] == (side(1.1), black) and cells[1, 7] == (side(8.8), black)
    assert cells[2, 6] == (side(6.4), white)  # the output bias
    assert all(cells[2, c] == (1, white) for c in (0, 1, 2, 3, 4, 5, 7))  # no weight there
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts}
    assert texts[0, 0] == "14.2" and texts[1, 7] == "-8.8" and texts[2, 6] == "6.4"


def test_error_curves_and_histogram(study):
    ax = plot_error_curves([[4.0, 3.0, 2.0], [5.0, 4.5]], labels=["a", "b"], logx=True)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() and ax.get_legend()
    assert plot_error_curves(study).get_legend()
    ax = plot_sweeps_histogram(study)
    assert ax.get_xlabel() == "sweeps to solution" and ax.get_ylabel() == "number of runs"
    assert any("paper: 1,425" in t.get_text() for t in ax.get_legend().get_texts())
    assert plot_sweeps_histogram([None, None]).get_title()
    with pytest.raises(ValueError, match="labels"):
        plot_error_curves([[1.0]], labels=["a", "b"])


def test_workaround_plot_draws_each_studys_success_rate_and_median(study):
    never = train_many(10, max_sweeps=300, seed=5)  # solves none: no median, a bar of 0
    fig = plot_workarounds({"paper": study, "short cap": never})
    rates, medians = fig.axes
    assert [t.get_text() for t in rates.get_yticklabels()] == ["paper", "short cap"]
    assert [bar.get_width() for bar in rates.patches] == pytest.approx(
        [100 * study.success_rate, 0.0])
    assert [bar.get_width() for bar in medians.patches] == pytest.approx(
        [study.sweep_quantiles()[1], 0.0])
    assert list(medians.get_lines()[-1].get_xdata()) == [1425, 1425]  # the paper's median
    assert fig.get_suptitle() and all(ax.get_xlabel() for ax in fig.axes)
    with pytest.raises(ValueError, match="at least one"):
        plot_workarounds({})


def test_plots_reject_wrong_shapes():
    w = paper_weights()
    w["hidden.weight"] = torch.zeros(2, 7)
    with pytest.raises(ValueError, match="expected shape"):
        draw_network(w)
    with pytest.raises(ValueError, match="expected shape"):
        hinton_plot(w)


def test_survival_curve_ends_at_the_success_rate(study):
    ax = plot_survival({"cap 2,000": study})
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    line = ax.get_lines()[0]
    assert line.get_ydata()[-1] == pytest.approx(100 * study.success_rate)
    assert line.get_xdata()[-1] == 2000
    with pytest.raises(ValueError, match="at least one"):
        plot_survival({})


def test_grid_heat_map_marks_the_papers_point():
    values = torch.tensor([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    ax = plot_grid(values, eps=[0.05, 0.1, 0.2], alpha=[0.8, 0.9])
    assert ax.get_title() and ax.get_xlabel() == "step size eps" and ax.get_ylabel()
    assert [t.get_text() for t in ax.texts] == ["10", "20", "30", "40", "50", "60"]
    assert any("paper" in t.get_text() for t in ax.get_legend().get_texts())
    with pytest.raises(ValueError, match="shape"):
        plot_grid(values.T, eps=[0.05, 0.1, 0.2], alpha=[0.8, 0.9])
