Attribute VB_Name = "xlbridge_addin"
' xlbridge add-in: start-up and the boundary of the worksheet functions.
' ASCII only (see xlbridge_ribbon.bas). Function descriptions live on the add-in's
' "functions" sheet, so that their Chinese text needs no code page.
Option Explicit

Public XlbridgeLastFailure As String

' Runs when Excel loads the add-in: registers each PERF_* function's description and
' argument help (shown by the Insert Function wizard) under its category.
Public Sub Auto_Open()
    XlbridgeRegisterFunctions
End Sub

Public Sub XlbridgeRegisterFunctions()
    Dim sht As Worksheet, r As Long, n As Long, c As Long
    Dim docs() As String, macroName As String
    On Error GoTo done
    Set sht = ThisWorkbook.Worksheets("functions")
    r = 2
    Do While sht.Cells(r, 1).Value <> ""
        macroName = "'" & ThisWorkbook.Name & "'!" & sht.Cells(r, 1).Value
        n = sht.Cells(r, 4).Value
        If n > 0 Then
            ReDim docs(1 To n)
            For c = 1 To n
                docs(c) = sht.Cells(r, 4 + c).Value
            Next c
            Application.MacroOptions Macro:=macroName, Description:=sht.Cells(r, 3).Value, _
                Category:=sht.Cells(r, 2).Value, ArgumentDescriptions:=docs
        Else
            Application.MacroOptions Macro:=macroName, Description:=sht.Cells(r, 3).Value, _
                Category:=sht.Cells(r, 2).Value
        End If
        r = r + 1
    Loop
done:
    ThisWorkbook.Saved = True
End Sub

' Python sends an Excel error as its text, "#N/A reason" (xlwings cannot return a real
' error value); this turns exactly those strings into real errors, element by element.
Public Function XlbridgeCell(ByVal v As Variant) As Variant
    Dim i As Long, j As Long
    If IsArray(v) Then
        For i = LBound(v, 1) To UBound(v, 1)
            For j = LBound(v, 2) To UBound(v, 2)
                v(i, j) = XlbridgeError(v(i, j))
            Next j
        Next i
        XlbridgeCell = v
    Else
        XlbridgeCell = XlbridgeError(v)
    End If
End Function

Private Function XlbridgeError(ByVal x As Variant) As Variant
    Dim code As String, p As Long
    XlbridgeError = x
    If VarType(x) <> vbString Then Exit Function
    If Left$(x, 1) <> "#" Then Exit Function
    p = InStr(x, " ")
    If p > 0 Then code = Left$(x, p - 1) Else code = x
    Select Case code
        Case "#NULL!": XlbridgeError = CVErr(2000)
        Case "#DIV/0!": XlbridgeError = CVErr(2007)
        Case "#VALUE!": XlbridgeError = CVErr(2015)
        Case "#REF!": XlbridgeError = CVErr(2023)
        Case "#NAME?": XlbridgeError = CVErr(2029)
        Case "#NUM!": XlbridgeError = CVErr(2036)
        Case "#N/A": XlbridgeError = CVErr(2042)
    End Select
End Function

' Python could not be reached at all (not installed, wrong interpreter path, ...):
' the cell shows #VALUE!, the status bar says why, never a traceback in the cell.
Public Function XlbridgeFailed(ByVal description As String) As Variant
    XlbridgeLastFailure = description
    On Error Resume Next
    Application.StatusBar = "xlbridge: " & Left$(Replace(description, vbLf, " "), 200)
    XlbridgeFailed = CVErr(2015)
End Function
