"""xlbridge: performance-appraisal schemes (绩效考核方案) for the Excel workbooks offices already use."""

__version__ = "0.1.0"
