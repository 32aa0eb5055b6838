"""Experiment 1 of Rumelhart, Hinton & Williams (1986), "Learning representations by
back-propagating errors" (Nature 323, 533-536): a 6-2-1 network learns to tell whether a 6-bit
vector is symmetric about its centre.

The pieces: the dataset, the network and the paper's Figure 1 weights, a single-run trainer that
follows the protocol exactly, a batched trainer for thousands of seeds at once, the analysis of a
solution and of a failure, and (in labutils.instructor.rhw1986.plots) the pictures.
"""

from labutils.instructor.rhw1986.analysis import (
    CHECK_NAMES,
    FAILURE_LABELS,
    SolutionReport,
    analyse_solution,
    classify_failure,
    classify_failures,
    pair_magnitudes,
    solution_checks,
    summarise_solutions,
)
from labutils.instructor.rhw1986.dataset import N_CASES, N_INPUTS, case_label, is_symmetric, symmetry_dataset
from labutils.instructor.rhw1986.model import (
    ACTIVATIONS,
    PAPER_WEIGHTS,
    WEIGHT_KEYS,
    SymmetryNet,
    batched_forward,
    check_weights,
    draw_weights,
    initial_weights,
    paper_weights,
    seed_for,
)
from labutils.instructor.rhw1986.training import (
    CRITERIA,
    LOSSES,
    OPTIMIZERS,
    PAPER_SWEEPS,
    SCHEDULERS,
    RunResult,
    StudyResult,
    criterion_met,
    make_optimizer,
    reference_sweep,
    stack_weights,
    summed_squared_error,
    train_many,
    train_single,
    unstack_weights,
    wilson_interval,
)

__all__ = [
    "ACTIVATIONS",
    "CHECK_NAMES",
    "CRITERIA",
    "FAILURE_LABELS",
    "LOSSES",
    "N_CASES",
    "N_INPUTS",
    "OPTIMIZERS",
    "PAPER_SWEEPS",
    "PAPER_WEIGHTS",
    "SCHEDULERS",
    "WEIGHT_KEYS",
    "RunResult",
    "SolutionReport",
    "StudyResult",
    "SymmetryNet",
    "analyse_solution",
    "batched_forward",
    "case_label",
    "check_weights",
    "classify_failure",
    "classify_failures",
    "criterion_met",
    "draw_weights",
    "initial_weights",
    "is_symmetric",
    "make_optimizer",
    "pair_magnitudes",
    "paper_weights",
    "reference_sweep",
    "seed_for",
    "solution_checks",
    "stack_weights",
    "summarise_solutions",
    "summed_squared_error",
    "symmetry_dataset",
    "train_many",
    "train_single",
    "unstack_weights",
    "wilson_interval",
]
