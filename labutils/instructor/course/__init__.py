"""The course repository's maintenance tools (instructor only, never in the student release):
the Colab badge and setup cell of every notebook (badges), and the figures of images/ drawn and
embedded in the notebooks (images). `python -m labutils.instructor badges|images` runs them."""
