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

{{/* Rules of the operator on namespaced resources (Role per watched namespace, or ClusterRole): exactly the calls
it makes, as tests/integration/operator/test_operator_rbac.py records them. */}}
{{- define "digitalhub.operatorRules" -}}
- apiGroups: [digitalhub.io]
  resources: [runs, tasks, functions]
  verbs: [get, list, watch]
- apiGroups: [digitalhub.io]
  resources: [runs]
  verbs: [create]
- apiGroups: [digitalhub.io]
  resources: [runs/status]
  verbs: [update, patch]
- apiGroups: [digitalhub.io]
  resources: [runs]
  verbs: [patch]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, create, delete]
- apiGroups: [""]
  resources: [secrets]
  verbs: [create]
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [""]
  resources: [events]
  verbs: [create, list, watch]
{{- if and .Values.operator.peering.enabled .Values.operator.watchNamespaces }}
- apiGroups: [kopf.dev]
  resources: [kopfpeerings]
  verbs: [get, list, watch, patch]
{{- end }}
{{- end -}}

{{- define "digitalhub.operatorImage" -}}
"{{ .Values.operator.image.repository }}:{{ .Values.operator.image.tag | default .Chart.AppVersion }}"
{{- end -}}

{{/* Pod and container security of the chart's own pods (operator, CRD upgrade hook). */}}
{{- define "digitalhub.podSecurity" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "digitalhub.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* Annotations of the pre-upgrade CRD hook's objects; the argument is the hook weight (lower runs first). */}}
{{- define "digitalhub.crdHook" -}}
helm.sh/hook: pre-upgrade
helm.sh/hook-weight: {{ . | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}

{{/* The chart's own Redis for serve jobs: its Service and Secret name. */}}
{{- define "digitalhub.redisName" -}}
{{ include "digitalhub.fullname" . }}-redis
{{- end -}}

{{/* The serve job store the operator passes to serve pods: {url, secret, key}, from serve.jobStore. */}}
{{- define "digitalhub.jobStore" -}}
{{- $store := .Values.serve.jobStore -}}
{{- if and $store.redis.enabled $store.url -}}
{{- fail "serve.jobStore: set either url (an existing Redis) or redis.enabled (the chart's own), not both" -}}
{{- end -}}
{{- if and $store.url (not (regexMatch "^rediss?://[^@]*$" $store.url)) -}}
{{- /* the URL is not repeated: it may hold a password */ -}}
{{- fail "serve.jobStore.url: give redis://HOST:PORT/DB or rediss://..., without credentials: put the password in a Secret (serve.jobStore.passwordSecret)" -}}
{{- end -}}
{{- if $store.redis.enabled -}}
{{- $name := include "digitalhub.redisName" . -}}
{{- toJson (dict "url" (printf "redis://%s.%s.svc.%s:6379/0" $name .Release.Namespace .Values.serve.clusterDomain) "secret" $name "key" "password") -}}
{{- else -}}
{{- toJson (dict "url" $store.url "secret" $store.passwordSecret.name "key" $store.passwordSecret.key) -}}
{{- end -}}
{{- end -}}

{{- define "digitalhub.consoleSelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: console
{{- end -}}
