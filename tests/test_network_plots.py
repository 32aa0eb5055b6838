"""Tests of labutils.network_plots: the network drawing and the Hinton diagram."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from labutils.network_plots import draw_network, hinton_plot  # noqa: E402
from labutils.paper1986 import PAPER_WEIGHTS  # noqa: E402

# --- pictures -----------------------------------------------------------------------------------


def test_network_pictures_have_titles_and_labels():
    ax = draw_network(PAPER_WEIGHTS, title="Figure 1")
    assert ax.get_title().startswith("Figure 1")
    texts = [t.get_text() for t in ax.texts]
    assert "14.2" in texts and "-1.1" in texts and "6.4" in texts
    ax = hinton_plot(PAPER_WEIGHTS, title="Hinton")
    assert ax.get_title().startswith("Hinton") and ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="lack"):
        draw_network({})
