Attribute VB_Name = "xlbridge_ribbon"
' xlbridge add-in: the ribbon tab of customUI14.xml calls these callbacks.
' Each one runs its handler in xlbridge/ribbon.py through xlwings' RunPython, in the
' same Python process as the worksheet functions (config: USE UDF SERVER = True).
' This file is ASCII on purpose: VBA source is read in the PC's ANSI code page.
Option Explicit

Public Sub XlbridgeRecomputeSheet(control As Object)
    XlbridgeRun "recompute_sheet"
End Sub

Public Sub XlbridgeRecomputeWorkbook(control As Object)
    XlbridgeRun "recompute_workbook"
End Sub

Public Sub XlbridgeSyncSchemes(control As Object)
    XlbridgeRun "sync_schemes"
End Sub

Public Sub XlbridgeCheckSheet(control As Object)
    XlbridgeRun "check_sheet"
End Sub

Public Sub XlbridgeExportReport(control As Object)
    XlbridgeRun "export_report"
End Sub

Public Sub XlbridgeAbout(control As Object)
    XlbridgeRun "about"
End Sub

Private Sub XlbridgeRun(action As String)
    If ActiveWorkbook Is Nothing Then Exit Sub
    RunPython "import xlbridge.ribbon as r; r.run('" & action & "')"
End Sub
