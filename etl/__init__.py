"""The medallion pipeline: raw files -> bronze -> silver -> gold, scored by Soda.

A plain, importable package: no Airflow or Streamlit imports anywhere below it.
"""

__version__ = "0.1.0"

# The medallion layers, in order: the one definition every module uses.
LAYERS = ("bronze", "silver", "gold")
