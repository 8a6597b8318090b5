"""The plumbing the lessons' modules share and no lesson imports by name: errors (``ImageError``,
``UsageError`` and how an option is worded), outputs (checked paths, the one atomic writer), downloads
(``urls``), layer names, records of a run and precision (bf16, channels-last)."""
