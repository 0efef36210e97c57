/*
 * A Kafka protocol endpoint for tests: librdkafka's mock cluster (one broker)
 * with one topic. Prints the bootstrap address, then reads commands on stdin:
 * "down" / "up" take the broker down / bring it back; end of input exits.
 *   cc -o kafka-mock kafka-mock.c -lrdkafka && ./kafka-mock TOPIC PARTITIONS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

int main(int argc, char **argv) {
  const char *topic = argc > 1 ? argv[1] : "flows";
  int parts = argc > 2 ? atoi(argv[2]) : 1;
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", err); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
  if (!mc) { fprintf(stderr, "rd_kafka_mock_cluster_new failed\n"); return 1; }
  if (rd_kafka_mock_topic_create(mc, topic, parts, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) { fprintf(stderr, "topic create failed\n"); return 1; }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "down", 4) == 0) rd_kafka_mock_broker_set_down(mc, 1);
    else if (strncmp(line, "up", 2) == 0) rd_kafka_mock_broker_set_up(mc, 1);
    printf("ok %s", line);
    fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
