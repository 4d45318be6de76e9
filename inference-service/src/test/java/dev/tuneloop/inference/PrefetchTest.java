package dev.tuneloop.inference;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tuneloop.contracts.AdapterFiles;
import dev.tuneloop.contracts.AdapterPromoted;
import dev.tuneloop.contracts.CheckpointEvaluated;
import dev.tuneloop.contracts.CheckpointSaved;
import dev.tuneloop.contracts.EventEnvelope;
import dev.tuneloop.contracts.Lineage;
import dev.tuneloop.contracts.StoredObject;
import dev.tuneloop.contracts.Topics;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Over Kafka, S3 and HTTP: a checkpoint saved and evaluated better than the served one is prepared in advance; its
 * objects are then deleted from S3 and its promotion is still served (nothing downloaded on receipt). A promotion
 * whose files differ from the candidate's (one sha256, or another checkpoint) takes the cold path as before: refused
 * when its objects do not match, served when they do. A malformed checkpoint record is skipped.
 */
@QuarkusTest
@QuarkusTestResource(value = BrokerStoreAndModel.class, restrictToAnnotatedClass = true)
class PrefetchTest {
    static final String EVAL_SET = "e".repeat(64);
    static final String RUN = "run-p";

    @Test
    void anEvaluatedCheckpointIsPreparedBeforeItsPromotionAndOtherFilesTakeTheColdPath() throws Exception {
        InferenceServiceTest.awaitReady();
        await("the checkpoint topics followed", () -> given().get("/q/health/ready").jsonPath()
                .getBoolean("checks[0].data.checkpointsFollowed"));
        BrokerStoreAndModel.publishRaw(Topics.CHECKPOINT_EVALUATED, RUN, "{not json".getBytes(StandardCharsets.UTF_8));

        Map<String, StoredObject> a;
        Map<String, StoredObject> b;
        Map<String, StoredObject> other;
        try (ObjectStore store = BrokerStoreAndModel.store()) {
            a = saveAndEvaluate(store, TestModels.get().adapterA(), "ckpt-1", 71.5);
            await("candidate ckpt-1 prepared", () -> metric("tuneloop_inference_prefetch_prepared_total") == 1.0);
            assertTrue(store.delete(ObjectUri.parse("s3://tuneloop/runs/" + RUN + "/ckpt-1/")) >= 2);
            b = saveAndEvaluate(store, TestModels.get().adapterB(), "ckpt-2", 80.0);
            other = TestModels.upload(store, TestModels.get().adapterA(), "s3://tuneloop/runs/" + RUN + "/ckpt-3/",
                    BrokerStoreAndModel.SERVED, 1, 50).files();
        }
        BrokerStoreAndModel.publish(RUN, promotion(1, "ckpt-1", a, 71.5));
        InferenceServiceTest.awaitGeneration(1);
        JsonPath status = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
        assertEquals(RUN, status.getString("adapter.run"));
        assertEquals("ckpt-1", status.getString("adapter.checkpoint"));
        assertEquals(1.0, metric("tuneloop_inference_prefetch_hits_total"), "served from the candidate");
        assertEquals(0.0, metric("tuneloop_inference_prefetch_misses_total"));
        JsonPath chat = InferenceServiceTest.chat(BrokerStoreAndModel.SERVED, "").then().statusCode(200).extract()
                .jsonPath();
        assertEquals("tuneloop-gen1-run-p-ckpt-1", chat.getString("system_fingerprint"));

        // ckpt-2 (f1 80 > 71.5) is a candidate; a promotion of its files with another sha256 is not it
        await("candidate ckpt-2 prepared", () -> metric("tuneloop_inference_prefetch_prepared_total") == 2.0);
        Map<String, StoredObject> tampered = new TreeMap<>(b);
        StoredObject w = tampered.get(AdapterFiles.WEIGHTS);
        tampered.put(AdapterFiles.WEIGHTS, new StoredObject(w.uri(), "f".repeat(64), w.size()));
        BrokerStoreAndModel.publish(RUN, promotion(2, "ckpt-2", tampered, 80.0));
        await("generation 2 refused", () -> given().get("/v1/adapter").jsonPath().get("last_refusal") != null);
        status = given().get("/v1/adapter").then().statusCode(200).extract().jsonPath();
        assertEquals("CHECKSUM", status.getString("last_refusal.reason"), status.prettify());
        assertEquals(1, status.getLong("adapter.generation"), "ckpt-1 keeps serving");
        assertEquals(1.0, metric("tuneloop_inference_prefetch_misses_total"));

        BrokerStoreAndModel.publish(RUN, promotion(3, "ckpt-2", b, 80.0));
        InferenceServiceTest.awaitGeneration(3);
        assertEquals(2.0, metric("tuneloop_inference_prefetch_hits_total"));

        // another checkpoint, never evaluated here: downloaded on receipt and served
        BrokerStoreAndModel.publish(RUN, promotion(4, "ckpt-3", other, 81.0));
        InferenceServiceTest.awaitGeneration(4);
        assertEquals(2.0, metric("tuneloop_inference_prefetch_misses_total"));
        assertEquals(0.0, metric("tuneloop_inference_prefetch_failures_total"));
        assertEquals(1.0, metric("tuneloop_inference_checkpoints_malformed_total"));
        assertEquals(0.0, metric("tuneloop_inference_prefetch_candidates"));
    }

    /** Uploads the adapter under the run's {@code checkpoint/} and publishes its save and evaluation. */
    private static Map<String, StoredObject> saveAndEvaluate(ObjectStore store, Path adapter, String checkpoint,
            double f1) throws Exception {
        String prefix = "s3://tuneloop/runs/" + RUN + "/" + checkpoint + "/";
        Map<String, StoredObject> files = TestModels.upload(store, adapter, prefix, BrokerStoreAndModel.SERVED, 1, f1)
                .files();
        var config = new ObjectMapper().readTree(adapter.resolve(AdapterFiles.CONFIG).toFile());
        BrokerStoreAndModel.publish(EventEnvelope.create(RUN, Lineage.unknown("test"),
                new CheckpointSaved(checkpoint, 1, 10, prefix, files, config), Instant.now()));
        BrokerStoreAndModel.publish(EventEnvelope.create(RUN, Lineage.unknown("test"),
                new CheckpointEvaluated(checkpoint, f1 - 10, f1, EVAL_SET, 100), Instant.now()));
        return files;
    }

    private static AdapterPromoted promotion(long generation, String checkpoint, Map<String, StoredObject> files,
            double f1) {
        return new AdapterPromoted(BrokerStoreAndModel.SERVED, generation, checkpoint, files, f1, EVAL_SET, false,
                Instant.now());
    }

    /** A sample of the Prometheus text at {@code /q/metrics} (no labels), 0 when absent. */
    static double metric(String name) {
        for (String line : given().get("/q/metrics").asString().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return 0;
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, what + ": not after 30 s");
            Thread.sleep(50);
        }
    }
}
