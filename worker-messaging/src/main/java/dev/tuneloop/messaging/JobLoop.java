package dev.tuneloop.messaging;

import dev.tuneloop.contracts.EventCodec;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.EventPayload;
import dev.tuneloop.contracts.MalformedEventException;
import dev.tuneloop.contracts.UnknownEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer group member that runs one long job at a time without losing its membership. On a record it pauses all
 * its partitions and runs the job on a worker thread while this loop keeps polling (so heartbeats and
 * {@code max.poll.interval.ms} are satisfied however long the job takes); when the job has ended it commits that
 * record's offset and resumes. A job that throws is retried: the record is redelivered after a back-off.
 *
 * <p>A record that does not decode, or carries another event type than the topic's, goes to the dead-letter topic
 * (plus a {@code RunFailed} when its header or key names a run) and its offset is committed: it never blocks the
 * partition. An event type this version does not know is skipped.
 *
 * <p>When the partition of the running job is revoked (another member took it over in a rebalance, or this loop
 * closes) the job is asked to stop through its {@code handoff} flag and the offset stays uncommitted, so the new
 * owner gets the record and resumes the job. Partitions move as little as possible (cooperative sticky assignment).
 */
public final class JobLoop<P extends EventPayload> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobLoop.class);

    /** The work for one event. */
    @FunctionalInterface
    public interface Handler<P extends EventPayload> {
        /**
         * Returning means the event is dealt with (its outcome, success or failure, is published): the offset is
         * committed. Throwing means "try again later" (e.g. the broker or the object store is unreachable).
         *
         * @param handoff turns true when this worker gives the event up; stop soon and publish no outcome
         */
        void handle(EventEnvelope<P> event, BooleanSupplier handoff) throws Exception;
    }

    /**
     * @param topic the topic to consume
     * @param groupId the consumer group; its members share the topic's partitions
     * @param pollTimeout longest wait of one poll (also how soon a finished job is committed)
     * @param handoffTimeout how long a revoked job may take to stop (keep it well below max.poll.interval.ms)
     * @param retryBackoff wait before a job that threw is tried again
     * @param lagInterval how often the consumer lag is measured
     * @param malformedStage the {@code RunFailed.stage} of a run named by a malformed record
     */
    public record Settings(String topic, String groupId, Duration pollTimeout, Duration handoffTimeout,
            Duration retryBackoff, Duration lagInterval, String malformedStage) {
        public Settings {
            for (Duration d : new Duration[] {pollTimeout, handoffTimeout, retryBackoff, lagInterval}) {
                if (d == null || d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("JobLoop settings for " + topic
                            + ": durations must be positive, got " + d);
                }
            }
        }
    }

    /**
     * @param lastPoll when the loop last returned from a poll (null before the first)
     * @param currentRunId run of the job in progress, or null
     * @param lag records of the assigned partitions not yet committed (the running one included); -1 unknown
     */
    public record Status(boolean running, Instant lastPoll, int assignedPartitions, String currentRunId, long lag,
            long jobsDone, long jobsRetried, long handedOff, long deadLettered, long rebalances) {}

    private final KafkaSettings kafka;
    private final Settings settings;
    private final Class<P> payloadType;
    private final EventPublisher publisher;
    private final Handler<P> handler;
    private final RecordRunId runIds;
    private final ExecutorService jobs;
    private final Thread thread;

    private volatile boolean closing;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Instant lastPoll;
    private volatile int assigned;
    private volatile long lag = -1;
    private final AtomicLong jobsDone = new AtomicLong();
    private final AtomicLong jobsRetried = new AtomicLong();
    private final AtomicLong handedOff = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong rebalances = new AtomicLong();
    private volatile RunningJob current;
    /** Loop thread only: while set, every partition stays paused (a job that threw waits for its retry). */
    private Instant retryAt;
    private Instant lagMeasuredAt = Instant.EPOCH;
    /** Loop thread only: offsets of ended jobs not yet committed. */
    private final Map<TopicPartition, OffsetAndMetadata> pendingCommits = new HashMap<>();

    public JobLoop(KafkaSettings kafka, Settings settings, Class<P> payloadType, EventPublisher publisher,
            Handler<P> handler) {
        this.kafka = kafka;
        this.settings = settings;
        this.payloadType = payloadType;
        this.publisher = publisher;
        this.handler = handler;
        this.runIds = new RecordRunId(publisher.tuneloopVersion());
        this.jobs = Executors.newSingleThreadExecutor(r -> new Thread(r, kafka.clientId() + "-job"));
        this.thread = new Thread(this::loop, kafka.clientId() + "-" + settings.groupId() + "-loop");
    }

    public JobLoop<P> start() {
        thread.start();
        return this;
    }

    public Status status() {
        RunningJob job = current;
        return new Status(thread.isAlive() && !closing, lastPoll, assigned, job == null ? null : job.runId, lag,
                jobsDone.get(), jobsRetried.get(), handedOff.get(), deadLettered.get(), rebalances.get());
    }

    private void loop() {
        Map<String, Object> props = kafka.properties(Map.of(
                "group.id", settings.groupId(),
                "enable.auto.commit", "false",
                "auto.offset.reset", "earliest",
                "max.poll.records", "1",
                "partition.assignment.strategy", CooperativeStickyAssignor.class.getName()), "-" + settings.groupId());
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer());
        consumer = c;
        try {
            c.subscribe(List.of(settings.topic()), new Rebalance());
            while (!closing) {
                ConsumerRecords<String, byte[]> records = c.poll(settings.pollTimeout());
                lastPoll = Instant.now();
                Set<TopicPartition> putBack = new HashSet<>();
                for (ConsumerRecord<String, byte[]> record : records) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    if (current != null || retryAt != null || putBack.contains(tp)) {
                        if (putBack.add(tp)) { // busy: fetch it again later
                            c.seek(tp, record.offset());
                        }
                        continue;
                    }
                    dispatch(record);
                }
                commitPending();
                if (current != null && current.future.isDone()) {
                    finish(current);
                }
                if (current == null && retryAt != null && !Instant.now().isBefore(retryAt)) {
                    retryAt = null;
                    c.resume(c.paused());
                }
                measureLag();
            }
        } catch (WakeupException e) {
            if (!closing) {
                LOG.error("consumer loop of group {} woken up unexpectedly", settings.groupId(), e);
            }
        } catch (RuntimeException e) {
            LOG.error("consumer loop of group {} on {} stopped: {}", settings.groupId(), settings.topic(), e.toString(),
                    e);
        } finally {
            RunningJob job = current;
            if (job != null) {
                handOff(job, "the worker is shutting down");
            }
            try {
                commitPending();
            } catch (RuntimeException e) {
                LOG.warn("offsets {} left uncommitted at shut-down: {}", pendingCommits, e.toString());
            }
            try {
                c.close(Duration.ofSeconds(30)); // leaves the group: the partitions move on at once
            } catch (RuntimeException e) {
                LOG.warn("closing the consumer of group {} failed: {}", settings.groupId(), e.toString());
            }
            consumer = null;
            assigned = 0;
        }
    }

    private void dispatch(ConsumerRecord<String, byte[]> record) {
        try {
            EventEnvelope<?> event;
            try {
                event = EventCodec.fromBytes(record.topic(), record.value());
            } catch (MalformedEventException e) {
                reject(record, e.getMessage());
                return;
            }
            if (event.payload() instanceof UnknownEvent) {
                LOG.info("skipping {} event {} at {}-{}@{}: a type this version does not know",
                        event.header().type(), event.header().eventId(), record.topic(), record.partition(),
                        record.offset());
                commit(record);
                return;
            }
            if (!payloadType.isInstance(event.payload())) {
                reject(record, record.topic() + " carries " + payloadType.getSimpleName() + " events, got "
                        + event.header().type() + " (event " + event.header().eventId() + ")");
                return;
            }
            @SuppressWarnings("unchecked")
            EventEnvelope<P> typed = (EventEnvelope<P>) event;
            start(record, typed);
        } catch (RuntimeException e) {
            LOG.warn("cannot deal with {}-{}@{} now, retrying in {}: {}", record.topic(), record.partition(),
                    record.offset(), settings.retryBackoff(), e.toString());
            retryLater(record);
        }
    }

    private void reject(ConsumerRecord<String, byte[]> record, String reason) {
        LOG.warn("dead-lettering {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), reason);
        publisher.deadLetter(record, settings.groupId(), reason);
        deadLettered.incrementAndGet();
        runIds.runFailed(record, settings.malformedStage(), "unreadable event at " + record.topic() + "-"
                + record.partition() + "@" + record.offset() + " (dead-lettered): " + reason)
                .ifPresent(publisher::publish);
        commit(record);
    }

    private void start(ConsumerRecord<String, byte[]> record, EventEnvelope<P> event) {
        RunningJob job = new RunningJob(record, event.header().runId());
        consumer.pause(consumer.assignment());
        LOG.info("run {}: starting the job for {} {} ({}-{}@{})", job.runId, event.header().type(),
                event.header().eventId(), record.topic(), record.partition(), record.offset());
        job.future = jobs.submit(() -> {
            handler.handle(event, job.handoff::get);
            return null;
        });
        current = job;
    }

    private void finish(RunningJob job) {
        current = null;
        try {
            job.future.get();
            jobsDone.incrementAndGet();
            commit(job.record);
            consumer.resume(consumer.paused());
        } catch (ExecutionException e) {
            jobsRetried.incrementAndGet();
            LOG.warn("run {}: the job failed without an outcome, retrying in {}: {}", job.runId,
                    settings.retryBackoff(), e.getCause().toString(), e.getCause());
            retryLater(job.record);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closing = true;
        }
    }

    private void commit(ConsumerRecord<String, byte[]> record) {
        pendingCommits.put(new TopicPartition(record.topic(), record.partition()),
                new OffsetAndMetadata(record.offset() + 1));
        commitPending();
    }

    /**
     * Commits the offsets of ended jobs. During a rebalance the broker refuses commits: they stay pending and are
     * tried again after the next poll. Offsets of partitions this member no longer holds are dropped (their new owner
     * redoes the job, which is idempotent).
     */
    private void commitPending() {
        if (pendingCommits.isEmpty()) {
            return;
        }
        pendingCommits.keySet().retainAll(consumer.assignment());
        try {
            consumer.commitSync(pendingCommits);
            pendingCommits.clear();
        } catch (RebalanceInProgressException | RetriableException e) {
            LOG.info("commit of {} deferred until after the rebalance: {}", pendingCommits, e.toString());
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("cannot commit {} (the jobs' outcomes are published; whoever gets the records redoes them): {}",
                    pendingCommits, e.toString());
            pendingCommits.clear();
        }
    }

    private void retryLater(ConsumerRecord<String, byte[]> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        if (consumer.assignment().contains(tp)) {
            consumer.seek(tp, record.offset());
        }
        consumer.pause(consumer.assignment());
        retryAt = Instant.now().plus(settings.retryBackoff());
    }

    /** Asks the job to stop and waits for it; its record stays uncommitted unless it had already finished. */
    private void handOff(RunningJob job, String why) {
        current = null;
        if (job.succeeded()) {
            jobsDone.incrementAndGet();
            try {
                commit(job.record);
            } catch (WakeupException e) {
                commit(job.record); // the wake-up of close() is used up by the first attempt
            }
            return;
        }
        job.handoff.set(true);
        handedOff.incrementAndGet();
        LOG.info("run {}: {}; stopping its job (waiting up to {}) so another worker resumes it", job.runId, why,
                settings.handoffTimeout());
        try {
            job.future.get(settings.handoffTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            LOG.info("run {}: the job stopped with {}", job.runId, e.getCause().toString());
        } catch (TimeoutException e) {
            LOG.error("run {}: the job did not stop within {}; it may now run on two workers at once", job.runId,
                    settings.handoffTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void measureLag() {
        Instant now = Instant.now();
        if (now.isBefore(lagMeasuredAt.plus(settings.lagInterval()))) {
            return;
        }
        lagMeasuredAt = now;
        try {
            lag = ConsumerLag.of(consumer);
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.debug("cannot measure the lag of group {}: {}", settings.groupId(), e.toString());
        }
    }

    /** Stops polling, hands a running job off (see {@link Handler#handle}) and leaves the group. */
    @Override
    public void close() {
        closing = true;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(settings.handoffTimeout().plusSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        jobs.shutdownNow();
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            rebalances.incrementAndGet();
            assigned = consumer.assignment().size();
            if (current != null || retryAt != null) {
                consumer.pause(partitions);
            }
            LOG.info("group {}: assigned {}, now holding {}", settings.groupId(), partitions, consumer.assignment());
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            giveUp(partitions, "partition revoked");
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            giveUp(partitions, "partition lost (this member was dropped from the group)");
        }

        private void giveUp(Collection<TopicPartition> partitions, String why) {
            try {
                commitPending(); // the last chance for the partitions that go
            } catch (KafkaException e) {
                LOG.warn("offsets {} of revoked partitions left uncommitted: {}", pendingCommits, e.toString());
                pendingCommits.clear();
            }
            RunningJob job = current;
            if (job != null && partitions.contains(job.partition())) {
                handOff(job, why);
                if (retryAt == null) {
                    consumer.resume(consumer.paused()); // the partitions this member keeps go on
                }
            }
            assigned = Math.max(0, consumer.assignment().size() - partitions.size());
        }
    }
}
