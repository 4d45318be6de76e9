package dev.tuneloop.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TopicsTest {
    @Test
    void topicNamesAreUniqueAndVersioned() {
        List<String> names = Topics.all().stream().map(TopicSpec::name).toList();
        assertEquals(7, names.size());
        assertEquals(names.size(), Set.copyOf(names).size(), "duplicate topic in " + names);
        for (String name : names) {
            assertTrue(name.matches("tuneloop\\.[a-z-]+\\.v[0-9]+"), name);
        }
    }

    @Test
    void everyEventTypeHasACreatableTopic() {
        for (EventType type : EventType.values()) {
            assertEquals(type.topic(), Topics.spec(type.topic()).name(), type.toString());
        }
    }

    @Test
    void allRunLifecycleEventsShareOneTopicSoTheirOrderPerRunHolds() {
        Set<EventType> onRunEvents = Set.of(EventType.values()).stream()
                .filter(t -> t.topic().equals(Topics.RUN_EVENTS))
                .collect(Collectors.toSet());
        assertEquals(Set.of(EventType.TRAINING_STARTED, EventType.TRAINING_PROGRESSED, EventType.CANCEL_REQUESTED,
                EventType.RUN_COMPLETED, EventType.RUN_FAILED, EventType.RUN_CANCELLED, EventType.RUN_DELETED),
                onRunEvents);
    }

    @Test
    void stateTopicsKeepEverythingAndPromotionsAreCompacted() {
        for (String name : List.of(Topics.TRAINING_REQUESTED, Topics.RUN_EVENTS, Topics.CHECKPOINT_SAVED,
                Topics.CHECKPOINT_EVALUATED)) {
            assertEquals(Map.of("cleanup.policy", "delete", "retention.ms", "-1"), Topics.spec(name).config(), name);
        }
        assertEquals("compact", Topics.spec(Topics.ADAPTER_PROMOTED).config().get("cleanup.policy"));
        assertEquals("1209600000", Topics.spec(Topics.DEAD_LETTER).config().get("retention.ms"));
    }

    @Test
    void unknownTopicsAndBadSpecsAreRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Topics.spec("tuneloop.run-events.v2"));
        assertTrue(e.getMessage().contains("tuneloop.run-events.v2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TopicSpec("a b", 1, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new TopicSpec("t", 0, Map.of()));
        Map<String, String> config = new HashMap<>(Map.of("cleanup.policy", "delete"));
        TopicSpec spec = new TopicSpec("t", 1, config);
        config.put("retention.ms", "1");
        assertEquals(Map.of("cleanup.policy", "delete"), spec.config(), "spec must copy its config");
    }
}
