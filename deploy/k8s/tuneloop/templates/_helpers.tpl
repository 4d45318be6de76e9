{{/* Names and labels. */}}
{{- define "tuneloop.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tuneloop.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tuneloop.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "tuneloop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tuneloop
{{- end -}}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "trainer"). */}}
{{- define "tuneloop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tuneloop.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tuneloop.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tuneloop.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tuneloop.modelCacheClaim" -}}
{{- default (printf "%s-model-cache" (include "tuneloop.fullname" .)) .Values.model.cache.pvc.existingClaim -}}
{{- end -}}

{{/* Image of a component: (dict "root" $ "values" .Values.trainer). The GPU variant has its own tag suffix. */}}
{{- define "tuneloop.image" -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.tag -}}
{{- if and .values.gpu .values.gpu.enabled -}}
{{- $tag = printf "%s%s" $tag .root.Values.image.gpuTagSuffix -}}
{{- end -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .values.image $tag -}}
{{- end -}}

{{- define "tuneloop.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "tuneloop.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Refuses secret-looking names in a component's free-form config: credentials belong in Secrets. */}}
{{- define "tuneloop.checkConfig" -}}
{{- range $key, $value := .values.config -}}
{{- if regexMatch "(?i)(^|_)(SECRET|PASSWORD|PASSWD|PASS|TOKEN|ACCESS_KEY|SECRET_KEY|API_KEY|CREDENTIALS?|PRIVATE_KEY|JAAS_CONFIG)(_|$)" $key -}}
{{- fail (printf "%s.config.%s looks like a credential: values end up in a ConfigMap. Put it in a Secret instead (see README.md, 'Credentials')." $.component $key) -}}
{{- end -}}
{{- if hasPrefix "TUNELOOP_AUTH_" (upper $key) -}}
{{- fail (printf "%s.config.%s: tuneloop.auth.* is set by the chart (tokens from auth.tokensSecret) and authentication cannot be switched off in a cluster (see README.md, 'Credentials')." $.component $key) -}}
{{- end -}}
{{- if not (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" $key) -}}
{{- fail (printf "%s.config.%s is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" $.component $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Environment variables read from Secrets, shared by every service. */}}
{{- define "tuneloop.secretEnv" -}}
- name: TUNELOOP_STORAGE_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "s3.credentialsSecret.name is required: create the Secret first (see README.md)" .Values.s3.credentialsSecret.name }}
      key: {{ .Values.s3.credentialsSecret.accessKeyKey }}
- name: TUNELOOP_STORAGE_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.credentialsSecret.name }}
      key: {{ .Values.s3.credentialsSecret.secretKeyKey }}
{{- include "tuneloop.kafkaSecretEnv" . }}
{{- if .Values.model.hfTokenSecret.name }}
- name: HF_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.model.hfTokenSecret.name }}
      key: {{ .Values.model.hfTokenSecret.key }}
{{- end }}
{{- end -}}

{{/*
API tokens of the HTTP services, from auth.tokensSecret: (dict "root" $ "component" "inference"). The orchestrator
gets the operator and viewer tokens, the inference service the client, operator and viewer tokens, the workers none
(they have no API). TUNELOOP_AUTH_ENABLED is never rendered: authentication stays on (its default).
*/}}
{{- define "tuneloop.authEnv" -}}
{{- $roles := dict "orchestrator" (list "operator" "viewer") "inference" (list "client" "operator" "viewer") -}}
{{- $s := .root.Values.auth.tokensSecret -}}
{{- range $role := (get $roles .component | default (list)) }}
- name: TUNELOOP_AUTH_TOKENS_{{ upper $role }}
  valueFrom:
    secretKeyRef:
      name: {{ required "auth.tokensSecret.name is required: the orchestrator and inference APIs need bearer tokens; create the Secret first (kubectl create secret generic tuneloop-api-tokens --from-literal=operator=... --from-literal=viewer=... --from-literal=client=..., see README.md and docs/security.md)" $s.name }}
      key: {{ get $s (printf "%sKey" $role) }}
{{- end }}
{{- end -}}

{{/* Where kafka.security.tlsSecret is mounted (read-only) in every service. */}}
{{- define "tuneloop.kafkaTlsDir" -}}
/etc/tuneloop/kafka-tls
{{- end -}}

{{/*
Kafka client secrets from kafka.security.credentialsSecret (tuneloop.kafka.sasl-jaas-config, ssl-*-password). The
JAAS config is required with a SASL_* protocol, the store passwords are optional keys (a PEM trust store has none),
except the key store's when a key store is mounted.
*/}}
{{- define "tuneloop.kafkaSecretEnv" -}}
{{- $ks := .Values.kafka.security -}}
{{- $sasl := hasPrefix "SASL_" $ks.protocol -}}
{{- if and $sasl (not $ks.credentialsSecret.name) -}}
{{- fail (printf "kafka.security.protocol %s needs kafka.security.credentialsSecret.name: a Secret with key %s holding the SASL JAAS config (see README.md, 'Kafka with TLS/SASL')" $ks.protocol $ks.credentialsSecret.jaasConfigKey) -}}
{{- end -}}
{{- with $ks.credentialsSecret.name }}
- name: TUNELOOP_KAFKA_SASL_JAAS_CONFIG
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $ks.credentialsSecret.jaasConfigKey }}
      optional: {{ not $sasl }}
- name: TUNELOOP_KAFKA_SSL_TRUSTSTORE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $ks.credentialsSecret.truststorePasswordKey }}
      optional: true
- name: TUNELOOP_KAFKA_SSL_KEYSTORE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $ks.credentialsSecret.keystorePasswordKey }}
      optional: {{ not (and $ks.tlsSecret.name $ks.tlsSecret.keystoreKey) }}
{{- end }}
{{- end -}}

{{- define "tuneloop.podAnnotations" -}}
checksum/config: {{ include (print .root.Template.BasePath "/configmaps.yaml") .root | sha256sum }}
{{- if .root.Values.metrics.annotations }}
prometheus.io/scrape: "true"
prometheus.io/path: /q/metrics
prometheus.io/port: "8080"
{{- end }}
{{- end -}}

{{- define "tuneloop.probes" -}}
{{- $p := .Values.probes -}}
startupProbe:
  httpGet: {path: /q/health/live, port: http}
  periodSeconds: {{ $p.startup.periodSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
livenessProbe:
  httpGet: {path: /q/health/live, port: http}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
readinessProbe:
  httpGet: {path: /q/health/ready, port: http}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
{{- end -}}
