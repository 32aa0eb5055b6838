"""Experiment 1 of Rumelhart, Hinton & Williams (1986), "Learning representations by
back-propagating errors" (Nature 323, 533-536): a 6-2-1 network learns to tell whether a 6-bit
vector is symmetric about its centre. Instructor-only: students write all of this themselves.

The parts, one concern each: model (the network, starting weights), options (the choices of a
run and their checks), single (train_single, one network with torch.optim), batched
(train_many, thousands at once) on engine (BatchedEngine, all networks as one parameter
matrix), study (StudyResult and its statistics), analysis (study summaries, failure labels) and
plots. The task itself (the 64 cases, the forward pass, E, the
paper's rule by hand), the paper's numbers, the judging of a network and the network pictures
are the student-safe labutils.symmetry_task, labutils.paper1986, labutils.network_facts and
labutils.network_plots.
"""

from labutils.instructor.rhw1986.analysis import (
    FACT_NAMES,
    FAILURE_LABELS,
    analyse_solution,
    classify_failure,
    classify_failures,
    summarise_solutions,
)
from labutils.instructor.rhw1986.batched import flush_denormal_is_on, train_many
from labutils.instructor.rhw1986.engine import BatchedEngine
from labutils.instructor.rhw1986.model import (
    SymmetryNet,
    batched_forward,
    draw_weights,
    initial_weights,
    seed_for,
)
from labutils.instructor.rhw1986.options import (
    CRITERIA,
    LOSSES,
    MOMENTUM_FORMS,
    OPTIMIZERS,
    SCHEDULERS,
)
from labutils.instructor.rhw1986.single import PaperSGD, TrainingRun, make_optimizer, train_single
from labutils.instructor.rhw1986.study import StudyResult, stack_weights, unstack_weights
from labutils.network_facts import NetworkFacts, check_weights, network_facts
from labutils.paper1986 import PAPER_SWEEPS, PAPER_WEIGHTS, paper_weights
from labutils.stats import wilson_interval

__all__ = [
    "CRITERIA",
    "FACT_NAMES",
    "FAILURE_LABELS",
    "LOSSES",
    "MOMENTUM_FORMS",
    "OPTIMIZERS",
    "PAPER_SWEEPS",
    "PAPER_WEIGHTS",
    "SCHEDULERS",
    "BatchedEngine",
    "NetworkFacts",
    "PaperSGD",
    "StudyResult",
    "SymmetryNet",
    "TrainingRun",
    "analyse_solution",
    "batched_forward",
    "check_weights",
    "classify_failure",
    "classify_failures",
    "draw_weights",
    "flush_denormal_is_on",
    "initial_weights",
    "make_optimizer",
    "network_facts",
    "paper_weights",
    "seed_for",
    "stack_weights",
    "summarise_solutions",
    "train_many",
    "train_single",
    "unstack_weights",
    "wilson_interval",
]
