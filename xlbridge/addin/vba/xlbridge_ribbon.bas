Attribute VB_Name = "xlbridge_ribbon"
' xlbridge add-in: the ribbon tab of customUI14.xml calls these callbacks.
' Each one runs its handler in xlbridge/ribbon.py through xlwings' RunPython, in the
' same Python process as the worksheet functions (config: USE UDF SERVER = True).
' IRibbonControl comes from the project's reference to the Office object library.
' This file is ASCII on purpose: VBA source is read in the PC's ANSI code page.
Option Explicit

Public Sub XlbridgeRecomputeSheet(control As IRibbonControl)
    XlbridgeRun "recompute_sheet"
End Sub

Public Sub XlbridgeRecomputeWorkbook(control As IRibbonControl)
    XlbridgeRun "recompute_workbook"
End Sub

Public Sub XlbridgeSyncSchemes(control As IRibbonControl)
    XlbridgeRun "sync_schemes"
End Sub

Public Sub XlbridgeCheckSheet(control As IRibbonControl)
    XlbridgeRun "check_sheet"
End Sub

Public Sub XlbridgeExportReport(control As IRibbonControl)
    XlbridgeRun "export_report"
End Sub

Public Sub XlbridgeAbout(control As IRibbonControl)
    XlbridgeRun "about"
End Sub

Private Sub XlbridgeRun(action As String)
    If ActiveWorkbook Is Nothing Then Exit Sub
    If Not XlbridgeCheckPython() Then Exit Sub
    RunPython "import xlbridge.ribbon as r; r.run('" & action & "')"
End Sub
