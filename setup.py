"""The C half of core.report (core/_report_speedups.c); everything else is in pyproject.toml.

Optional: where no C compiler is at hand the install goes on without it, and core.report
runs the same loops in Python.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "core._report_speedups",
            sources=["core/_report_speedups.c"],
            optional=True,
        )
    ]
)
