"""xlbridge: appraisal schemes (绩效考核方案) in the Excel workbooks of public offices."""

__version__ = "0.1.0"
