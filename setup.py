"""Package mapping only; all metadata lives in pyproject.toml.

The repository keeps the model engine and the kernels at the top level (models/, kernels/) but installs
them inside the application namespace as ssmdoc.models and ssmdoc.kernels. Subpackages are discovered so
that adding a folder needs no edit here.
"""

from setuptools import find_packages, setup

ROOTS = {"ssmdoc": "ssmdoc", "ssmdoc.models": "models", "ssmdoc.kernels": "kernels"}

packages, package_dir = [], {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    for sub in find_packages(folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
