package dev.tuneloop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneloop.model.squad.OnBadRecord;
import dev.tuneloop.model.squad.SquadData;
import dev.tuneloop.model.squad.SquadExample;
import dev.tuneloop.model.squad.SquadReader;
import dev.tuneloop.stack.LocalS3;
import dev.tuneloop.storage.ObjectStore;
import dev.tuneloop.storage.ObjectUri;
import dev.tuneloop.storage.Sha256;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's data: a fixed sample of 200 real SQuAD questions and the eval set, uploaded to a real S3 server. */
class DemoDataTest {
    @TempDir
    Path dir;

    @Test
    void uploadsAFixedSampleThatReadsBackExampleForExample() throws Exception {
        Path shared = StackCommand.sharedDir();
        SquadData source = SquadReader.read(shared.resolve(DemoData.SHARED_TRAIN), OnBadRecord.FAIL);
        Map<String, SquadExample> byId = source.examples().stream()
                .collect(Collectors.toMap(SquadExample::id, Function.identity(), (a, b) -> a));
        try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "tuneloop");
                ObjectStore store = new ObjectStore(s3.settings())) {
            DemoData.Uploaded first = DemoData.upload(shared, 200, store, dir.resolve("a"));
            DemoData.Uploaded second = DemoData.upload(shared, 200, store, dir.resolve("b"));
            assertEquals(first.train().sha256(), second.train().sha256(), "the sample is the same every time");
            assertEquals("s3://tuneloop/datasets/demo/train-200.jsonl", first.train().uri());
            assertEquals(2921, first.evalExamples());
            assertEquals("Which NFL team represented the AFC at Super Bowl 50?", first.question().question());

            byte[] bytes;
            try (InputStream in = store.open(ObjectUri.parse(first.train().uri()))) {
                bytes = in.readAllBytes();
            }
            assertEquals(first.train().sha256(), Sha256.of(bytes));
            List<SquadExample> uploaded = SquadReader.read(new java.io.ByteArrayInputStream(bytes), "train-200",
                    OnBadRecord.FAIL).examples();
            assertEquals(200, uploaded.size());
            assertEquals(200, uploaded.stream().map(SquadExample::id).distinct().count());
            for (SquadExample e : uploaded) {
                SquadExample original = byId.get(e.id());
                assertTrue(original != null, e.id() + " is not in the source");
                assertEquals(original.context(), e.context());
                assertEquals(original.question(), e.question());
                assertEquals(original.answers(), e.answers());
                assertEquals(original.answerStarts(), e.answerStarts());
            }
        }
    }
}
