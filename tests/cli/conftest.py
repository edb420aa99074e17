from task_fixtures import _offline, examples, jamba_ckpt, mamba_ckpt, short_jamba_ckpt  # noqa: F401
