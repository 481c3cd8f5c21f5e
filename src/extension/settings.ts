// Typed reads of the `evalpred.*` settings declared in package.json (defaults live in contributions.ts).
import * as vscode from 'vscode';
import { SettingDefaults, SettingName, Settings } from './contributions';

export function setting<K extends SettingName>(name: K, scope?: vscode.ConfigurationScope): Settings[K] {
  return vscode.workspace.getConfiguration('evalpred', scope).get<Settings[K]>(name, SettingDefaults[name]);
}

/** The Python interpreter for metric files: the setting, else python3 on PATH. Ignored when untrusted (restricted). */
export function pythonPath(scope?: vscode.ConfigurationScope): string | undefined {
  const p = setting('pythonPath', scope).trim();
  return p || undefined;
}

/** The metric processes' memory limit in MB; undefined: the default (half of physical memory). */
export function metricMemoryLimitMb(scope?: vscode.ConfigurationScope): number | undefined {
  const mb = Number(setting('metricMemoryLimitMb', scope));
  return Number.isInteger(mb) && mb >= 64 ? mb : undefined;
}

export function metricTimeoutMs(scope?: vscode.ConfigurationScope): number {
  const s = Number(setting('metricTimeoutSeconds', scope));
  return Number.isFinite(s) && s > 0 ? s * 1000 : SettingDefaults.metricTimeoutSeconds * 1000;
}
