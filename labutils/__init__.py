"""labutils: the helper package of the deep-learning lab course.

Notebooks import what a lesson has already taught from here, so no code is pasted twice.
"""

__version__ = "0.1.0"
