"""Instructor-only part of labutils: the 1986 reproduction engine (rhw1986), the grader
(grading), the student assignment generator (assignment), the student-release builder (release),
the course tooling (course: Colab badges, images) and the instructor command line
(`python -m labutils.instructor`). The student release never contains this folder;
tests/instructor/test_release.py checks that nothing of it leaks there."""
