"""Shared helpers for the Streamlit pages: the database for this run, the signed-in user, page guards.

Pages stay thin: read widgets, call the core, render. Anything with rules belongs in the core packages.
"""
