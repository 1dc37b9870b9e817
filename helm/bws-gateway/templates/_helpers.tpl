{{- define "bws.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bws.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "bws.labels" -}}
app.kubernetes.io/name: {{ include "bws.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "bws.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bws.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The BWS_REDIS_URL for the configured topology. */}}
{{- define "bws.redisUrl" -}}
{{- $r := .Values.redis -}}
{{- $modes := 0 -}}
{{- if $r.url }}{{ $modes = add1 $modes }}{{ end -}}
{{- if $r.sentinel.hosts }}{{ $modes = add1 $modes }}{{ end -}}
{{- if $r.cluster.nodes }}{{ $modes = add1 $modes }}{{ end -}}
{{- if ne (int $modes) 1 -}}
{{- fail "set exactly one of redis.url, redis.sentinel.hosts (with masterName) or redis.cluster.nodes" -}}
{{- end -}}
{{- if $r.url -}}
{{- if contains "@" $r.url -}}
{{- fail "redis.url must not hold credentials (it goes into a ConfigMap): put the password in the Secret named by redis.passwordSecret" -}}
{{- end -}}
{{ $r.url }}
{{- else if $r.sentinel.hosts -}}
{{- $name := required "redis.sentinel.masterName is required" $r.sentinel.masterName -}}
redis+sentinel://{{ join "," $r.sentinel.hosts }}/{{ $name }}?db={{ $r.sentinel.db }}
{{- else -}}
redis+cluster://{{ join "," $r.cluster.nodes }}
{{- end -}}
{{- end -}}
