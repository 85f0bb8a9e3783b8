{{- define "digitalhub.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "digitalhub.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: digitalhub
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "digitalhub.operatorSelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "digitalhub.operatorAccount" -}}
{{ include "digitalhub.fullname" . }}-operator
{{- end -}}

{{/* Namespaces where run pods execute and need the runner ServiceAccount. */}}
{{- define "digitalhub.runnerNamespaces" -}}
{{- $namespaces := .Values.runtime.namespaces | default .Values.operator.watchNamespaces | default (list .Release.Namespace) -}}
{{- toJson $namespaces -}}
{{- end -}}

{{/* Rules of the operator on namespaced resources (Role per watched namespace, or ClusterRole). */}}
{{- define "digitalhub.operatorRules" -}}
- apiGroups: [digitalhub.io]
  resources: [runs]
  verbs: [get, list, watch, patch, update]
- apiGroups: [digitalhub.io]
  resources: [runs/status]
  verbs: [get, patch, update]
- apiGroups: [digitalhub.io]
  resources: [projects, functions, tasks]
  verbs: [get, list, watch]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, create, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch, list, watch]  # list/watch: Warnings on Jobs (FailedCreate) reach the runs
{{- if .Values.operator.peering.enabled }}
- apiGroups: [kopf.dev]
  resources: [kopfpeerings]
  verbs: [get, list, watch, patch]
{{- end }}
{{- end -}}
