{{/* Names and labels, as `helm create` makes them. */}}
{{- define "gpuprice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gpuprice.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gpuprice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gpuprice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gpuprice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gpuprice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "gpuprice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gpuprice.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding provider keys: the chart's, the user's, or none. */}}
{{- define "gpuprice.keysSecret" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else if .Values.secrets.keys }}
{{- printf "%s-keys" (include "gpuprice.fullname" .) }}
{{- end }}
{{- end }}

{{/* The keys of that Secret, sorted. */}}
{{- define "gpuprice.keyNames" -}}
{{- if .Values.secrets.existingSecret }}
{{- toJson (sortAlpha .Values.secrets.existingSecretKeys) }}
{{- else }}
{{- toJson (sortAlpha (keys .Values.secrets.keys)) }}
{{- end }}
{{- end }}

{{/*
Checks of the values that a schema cannot state; every template that
depends on them includes this.
*/}}
{{- define "gpuprice.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.storage.postgres.enabled) }}
{{- fail (printf "replicas: %d needs storage.postgres.enabled with a DSN secret: SQLite on a PersistentVolumeClaim serves one replica" (int .Values.replicas)) }}
{{- end }}
{{- if and .Values.storage.postgres.enabled (not .Values.storage.postgres.dsnSecret.name) }}
{{- fail "storage.postgres.enabled needs storage.postgres.dsnSecret.name: the Secret holding the PostgreSQL DSN" }}
{{- end }}
{{- if hasKey .Values.config "storage" }}
{{- fail "config.storage is set by the chart: use storage.retention, storage.persistence and storage.postgres" }}
{{- end }}
{{- if and .Values.secrets.existingSecret .Values.secrets.keys }}
{{- fail "secrets.keys and secrets.existingSecret are mutually exclusive" }}
{{- end }}
{{- if and .Values.secrets.existingSecret (not .Values.secrets.existingSecretKeys) }}
{{- fail "secrets.existingSecret needs secrets.existingSecretKeys: the keys to mount under /etc/gpuprice/secrets" }}
{{- end }}
{{- end }}

{{/*
The gpuprice configuration: .Values.config with the storage section the
chart's values decide.
*/}}
{{- define "gpuprice.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $storage := dict "driver" "sqlite" "path" "/data" "retention" .Values.storage.retention }}
{{- if .Values.storage.postgres.enabled }}
{{- $storage = dict "driver" "postgres" "dsn" "${GPUPRICE_STORAGE_DSN}" "retention" .Values.storage.retention }}
{{- end }}
{{- $_ := set $cfg "storage" $storage }}
{{- toYaml $cfg }}
{{- end }}
