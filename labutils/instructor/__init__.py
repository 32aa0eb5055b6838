"""Instructor-only part of labutils: the 1986 reproduction engine, the assignment release tool
and the grader. The student release never contains this folder (tests/test_release.py checks)."""
