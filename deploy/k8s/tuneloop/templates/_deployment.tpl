{{/*
One service's Deployment. Call with (dict "root" $ "component" "trainer" "values" .Values.trainer "ml" true
"http" true "autoscaled" false). ml: mounts the model cache and the DJL native cache. autoscaled: an HPA or a KEDA
ScaledObject owns the replica count, so the Deployment leaves it unset.
*/}}
{{- define "tuneloop.deployment" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $fullname := include "tuneloop.fullname" $root -}}
{{- $gpu := and $v.gpu $v.gpu.enabled -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}-{{ .component }}
  labels:
    {{- include "tuneloop.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if not .autoscaled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "tuneloop.selectorLabels" (dict "root" $root "component" .component) | nindent 6 }}
  {{- if .ml }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      {{- if eq .component "inference" }}
      maxSurge: {{ $gpu | ternary 0 1 }}
      maxUnavailable: {{ $gpu | ternary 1 0 }}
      {{- else }}
      # a worker holds a GPU or many cores for one job: replace, do not surge
      maxSurge: 0
      maxUnavailable: 1
      {{- end }}
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "tuneloop.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      annotations:
        {{- include "tuneloop.podAnnotations" (dict "root" $root) | nindent 8 }}
    spec:
      serviceAccountName: {{ include "tuneloop.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "tuneloop.podSecurityContext" $root | nindent 8 }}
      terminationGracePeriodSeconds: {{ default 30 $v.terminationGracePeriodSeconds }}
      containers:
        - name: {{ .component }}
          image: {{ include "tuneloop.image" (dict "root" $root "values" $v) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ $fullname }}-common
            - configMapRef:
                name: {{ $fullname }}-{{ .component }}
          env:
            {{- include "tuneloop.secretEnv" $root | nindent 12 }}
            {{- include "tuneloop.authEnv" (dict "root" $root "component" .component) | nindent 12 }}
          {{- include "tuneloop.probes" $root | nindent 10 }}
          resources:
            requests:
              {{- toYaml $v.resources.requests | nindent 14 }}
            limits:
              {{- toYaml $v.resources.limits | nindent 14 }}
              {{- if $gpu }}
              {{ $v.gpu.resourceName }}: {{ $v.gpu.count }}
              {{- end }}
          securityContext:
            {{- include "tuneloop.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if .ml }}
            - name: djl-cache
              mountPath: {{ $root.Values.djl.cacheDir }}
            - name: model-cache
              mountPath: {{ $root.Values.model.cache.mountPath }}
            {{- end }}
            {{- if $root.Values.kafka.security.tlsSecret.name }}
            - name: kafka-tls
              mountPath: {{ include "tuneloop.kafkaTlsDir" $root }}
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $root.Values.tmpSizeLimit }}
        {{- if .ml }}
        - name: djl-cache
          emptyDir:
            sizeLimit: {{ $root.Values.djl.cacheSizeLimit }}
        - name: model-cache
          {{- if eq $root.Values.model.cache.type "pvc" }}
          persistentVolumeClaim:
            claimName: {{ include "tuneloop.modelCacheClaim" $root }}
          {{- else if eq $root.Values.model.cache.type "hostPath" }}
          hostPath:
            path: {{ $root.Values.model.cache.hostPath.path }}
            type: DirectoryOrCreate
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- end }}
        {{- with $root.Values.kafka.security.tlsSecret.name }}
        - name: kafka-tls
          secret:
            secretName: {{ . }}
            defaultMode: 0440
        {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
