{{/* Labels of every object; the selector labels are the stable subset (name, component). */}}
{{- define "killtrace.labels" -}}
app.kubernetes.io/name: killtrace
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
app.kubernetes.io/part-of: killtrace
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{- define "killtrace.selectorLabels" -}}
app.kubernetes.io/name: killtrace
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "killtrace.image" -}}
{{- $image := index .root.Values.images .name -}}
{{- if or (not $image.tag) (eq (toString $image.tag) "latest") }}
{{- fail (printf "images.%s.tag must name a release (not empty, not latest)" .name) }}
{{- end }}
{{- printf "%s:%s" $image.repository (toString $image.tag) }}
{{- end }}

{{- define "killtrace.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "killtrace.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* Prometheus scrape annotations of every pod. */}}
{{- define "killtrace.podAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: "9464"
prometheus.io/path: /metrics
{{- end }}

{{/*
Probes. startup covers the component's real start (.startupPeriod x .startupFailures); liveness is /healthz, which
fails only when the event loop stalls (libs/service-http), never for a dependency; readiness is /readyz.
*/}}
{{- define "killtrace.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: {{ .startupPeriod }}
  timeoutSeconds: 5
  failureThreshold: {{ .startupFailures }}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 6
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: {{ .readinessPeriod }}
  timeoutSeconds: 5
  failureThreshold: 3
{{- end }}

{{/* SASL credentials from the Secret kafka.sasl.secret, unless the mechanism is none. */}}
{{- define "killtrace.kafkaEnv" -}}
{{- if ne .Values.kafka.sasl.mechanism "none" }}
- name: KILLTRACE_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.secret }}
      key: username
- name: KILLTRACE_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.secret }}
      key: password
{{- end }}
{{- end }}

{{- define "killtrace.kafkaVolumeMounts" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/killtrace/kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{- define "killtrace.kafkaVolumes" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
{{- end }}
{{- end }}
