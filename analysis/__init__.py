"""Text processing and analysis: redaction, disclosure checks, suggestions, agreement, findings tables.

Plain Python over plain data; never imports Streamlit or SQL drivers.
"""
