"""The engine that trains lesson 5's network at scale, free of any lesson's mathematics.

``content`` (a folder of photos as crops seeded by sample, unreadable files skipped), ``distributed``
(torchrun's process group; a no-op without torchrun), ``stopping`` (Ctrl-C and SIGTERM end a run at a step
boundary), ``log`` (the per-step rows as a CSV, previews), ``record`` (the run's record), ``checkpoint``
(written whole, read once, restored), ``reporter`` (rank 0's progress, log, previews and checkpoints) and
``loop`` (the steps). A lesson builds the network, its loss and its data and hands them to ``loop.run``;
nothing here imports a lesson module.
"""
