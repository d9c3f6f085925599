@echo off
rem Runs the installed tandem.exe for the Claude Code plugin on Windows, where a client starts
rem a server without a POSIX shell. Same order as tandem-launch: TANDEM_BIN, the tray app's
rem sidecar (per-user install), PATH, the Cargo bin folder. Found none: nothing on stdout, one
rem line on stderr.
setlocal
set TANDEM_PLUGIN_VERSION=0.1.0
if defined TANDEM_BIN if exist "%TANDEM_BIN%" ( "%TANDEM_BIN%" %* & exit /b %ERRORLEVEL% )
if exist "%LOCALAPPDATA%\Tandem\tandem.exe" ( "%LOCALAPPDATA%\Tandem\tandem.exe" %* & exit /b %ERRORLEVEL% )
for %%B in (tandem.exe) do if not "%%~$PATH:B"=="" ( "%%~$PATH:B" %* & exit /b %ERRORLEVEL% )
if exist "%USERPROFILE%\.cargo\bin\tandem.exe" ( "%USERPROFILE%\.cargo\bin\tandem.exe" %* & exit /b %ERRORLEVEL% )
echo tandem: not installed; install the Tandem app, then restart Claude Code 1>&2
if "%1"=="hook" exit /b 0
exit /b 127
