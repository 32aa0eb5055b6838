"""The course's assignments, one plug-in package each (see labutils.instructor.grading.plugin).

Each package `<name>/` exports `ASSIGNMENT` (a plugin.Assignment) and keeps its rubric in
`<name>/rubric.toml`. The grader finds them by name; nothing here is imported by the grader
core. Adding an assignment is adding a package.
"""

DEFAULT = "rhw1986"
"""The assignment `grade` takes when none is named (the course's first)."""
