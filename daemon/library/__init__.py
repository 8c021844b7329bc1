"""The motion-package library: the on-disk store, the library of accepted packages, the
MotionLibrary protocol and reference-track preparation.
"""
