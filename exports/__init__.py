"""Writers over plain data: the Excel workbook, CSV, REFI-QDA (.qdpx/.qdc), the Word report and chart images.

Each takes an exports.tables.ExportSet (or a codebook frame) and writes to a path or a binary file object.
"""
