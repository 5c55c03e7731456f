Attribute VB_Name = "xlbridge_addin"
' xlbridge add-in: start-up, and the boundary of the worksheet functions.
' ASCII only: VBA reads its source in the PC's ANSI code page. Chinese text comes from
' xlbridge_text (generated) or from the add-in's sheets.
Option Explicit

Public XlbridgeLastFailure As String

' Runs when Excel opens the add-in (ThisWorkbook.Workbook_Open).
Public Sub XlbridgeStartup()
    XlbridgeCheckPython
    XlbridgeRegisterFunctions
End Sub

' Is the Python this add-in was built for there, with the xlwings DLL of the xlwings version
' the add-in was built with? The interpreter is INTERPRETER_WIN on the add-in's own
' xlbridge.conf sheet (`xlbridge addin build --interpreter`, environment variables such as
' %LOCALAPPDATA% allowed); xlwings loads its DLL from the interpreter's folder or the one
' above it (a virtual environment). Says what is wrong in a message box, in Chinese.
Public Function XlbridgeCheckPython() As Boolean
    Dim conf As Object, python As String, dll As String, folder As String, problem As String
    On Error GoTo failed
    Set conf = GetConfigFromSheet(ThisWorkbook)
    If conf.Exists("INTERPRETER_WIN") Then python = Trim$(CStr(conf.Item("INTERPRETER_WIN")))
    If python <> "" Then python = ExpandEnvironmentStrings(python)
#If Win64 Then
    dll = "xlwings64-" & XLWINGS_VERSION & ".dll"
#Else
    dll = "xlwings32-" & XLWINGS_VERSION & ".dll"
#End If
    If python = "" Then
        problem = XlbridgeMessage("no_interpreter")
    ElseIf Not FileExists(python) Then
        problem = Replace(XlbridgeMessage("interpreter_missing"), "{path}", python)
    Else
        folder = ParentFolder(python)
        If Not (FileExists(folder & "\" & dll) Or FileExists(ParentFolder(folder) & "\" & dll)) Then
            problem = XlbridgeMessage("dll_missing")
            problem = Replace(Replace(problem, "{dll}", dll), "{folder}", folder)
            problem = Replace(problem, "{version}", XLWINGS_VERSION)
        End If
    End If
    XlbridgeLastFailure = problem
    If problem = "" Then
        XlbridgeCheckPython = True
    Else
        MsgBox problem, vbExclamation, XlbridgeMessage("title")
    End If
    Exit Function
failed:
    XlbridgeLastFailure = Err.Description
    XlbridgeCheckPython = True   ' let xlwings try, and say what fails
End Function

' Registers each PERF_* function's description and argument help (shown by the Insert
' Function wizard) under its category, from the add-in's "functions" sheet.
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
    Dim code As String, p As Long, e As Variant
    XlbridgeError = x
    If VarType(x) <> vbString Then Exit Function
    If Left$(x, 1) <> "#" Then Exit Function
    p = InStr(x, " ")
    If p > 0 Then code = Left$(x, p - 1) Else code = x
    e = XlbridgeErrorValue(code)
    If Not IsEmpty(e) Then XlbridgeError = e
End Function

' Python could not be reached at all (not installed, wrong interpreter path, ...):
' the cell shows #VALUE!, the status bar says why, never a traceback in the cell.
Public Function XlbridgeFailed(ByVal description As String) As Variant
    XlbridgeLastFailure = description
    On Error Resume Next
    Application.StatusBar = "xlbridge: " & Left$(Replace(description, vbLf, " "), 200)
    XlbridgeFailed = CVErr(2015)
End Function
